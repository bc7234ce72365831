import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import app.launch as _launch

_launch.protect_singletons()  # PySide6 6.12 on CPython < 3.12 leaks refs to None/True (see app/launch.py)
