"""INRet Browser. ``python main.py [STORE] [--screenshot PNG]``; no STORE opens the demo store."""

import sys

from app.launch import main

if __name__ == "__main__":
    sys.exit(main())
