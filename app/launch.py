"""Start-up: parse arguments, open (or first build) a store, show the window.

Heavy modules load after the window exists, so the window appears quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def default_demo_store() -> Path:
    """Where the built-in demo store lives: ``$INRET_DEMO_STORE`` or the user's data folder."""
    env = os.environ.get("INRET_DEMO_STORE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "inret" / "demo-store"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="main.py", description="INRet Browser: find similar shapes in an INR store.")
    p.add_argument("store", nargs="?", help="store folder (default: the built-in demo store, built on first run)")
    p.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window once loaded, then exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("INRet Browser")
    style = Path(__file__).resolve().parents[1] / "resources" / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text())

    from .main_window import MainWindow

    window = MainWindow()
    window.show()

    def loaded(_=None) -> None:
        if args.screenshot:
            QTimer.singleShot(300, lambda: (window.grab().save(args.screenshot), app.quit()))

    def start() -> None:
        root = Path(args.store) if args.store else default_demo_store()
        try:
            if args.store or (root / "catalog.sqlite").is_file() and _demo_complete(root):
                window.open_store(root)
                loaded()
            else:
                from .demo import build_demo_job
                window.run_job(build_demo_job(root), label="Building the demo store",
                               on_done=lambda _: (window.open_store(root), loaded()))
        except (ValueError, OSError) as exc:
            window.show_error(str(exc))
            if args.screenshot:
                app.quit()

    QTimer.singleShot(0, start)
    return app.exec()


def _demo_complete(root: Path) -> bool:
    from .demo import demo_is_complete
    return demo_is_complete(root)
