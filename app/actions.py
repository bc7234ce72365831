"""Menus, shortcuts and the small dialogs behind them, for :class:`~app.main_window.MainWindow`.

Each action asks for what it needs (a folder, a file name, a dialog's options) and hands
the work to the window's store, controller or job runner.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog

from inret_engine.errors import InretError, UsageError
from inret_engine.model_set import trainable_archs
from inret_engine.query_file import QUERY_SUFFIXES


def install_actions(window) -> dict[str, QAction]:
    """Build the menu bar of ``window``; returns its actions by name (for tests and tool bars)."""
    acts: dict[str, QAction] = {}

    def add(menu, name: str, text: str, keys, slot, tip: str = "") -> QAction:
        action = QAction(text, window)
        action.triggered.connect(slot)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in ([keys] if isinstance(keys, str) else keys)])
        action.setStatusTip(tip)
        action.setToolTip(tip or text.replace("&", "").rstrip("…"))
        action.setProperty("menu", menu.title().replace("&", ""))
        menu.addAction(action)
        acts[name] = action
        return action

    bar = window.menuBar()
    file = bar.addMenu("&File")
    add(file, "open", "&Open Store…", "Ctrl+O", lambda: choose_store(window), "Open an INR store folder")
    add(file, "build", "&Build Store from Mesh Folder…", "Ctrl+B", lambda: build_store(window),
        "Fit INRs of a folder of meshes or point clouds into a new store")
    add(file, "reload", "&Reload", "F5", window.reload, "Read the store again (new INRs, new encoders)")
    file.addSeparator()
    add(file, "query_file", "Query with &File…", "Ctrl+Shift+O", lambda: choose_query_file(window),
        "Query with an .inr, mesh or point-cloud file (or drop one on the window)")
    add(file, "export", "&Export Results…", "Ctrl+E", lambda: export_results(window),
        "Write the results as CSV or JSON")
    add(file, "screenshot", "Save &Screenshot…", "Ctrl+Shift+S", lambda: save_screenshot(window),
        "Save a picture of the window as PNG")
    file.addSeparator()
    add(file, "quit", "&Quit", "Ctrl+Q", window.close, "Close the browser")

    edit = bar.addMenu("&Edit")
    add(edit, "find", "&Find…", "Ctrl+F", window.gallery.focus_search, "Search the gallery by name, category or "
        "shape id")

    query = bar.addMenu("&Query")
    selected = add(query, "query_selected", "&Query Selected", ["Return", "Enter"], window.query_selected,
                   "Make the selected gallery shape the query")
    # Enter in the search box still only searches
    selected.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.gallery.list.addAction(selected)
    add(query, "cancel", "&Cancel Running Job", "Esc", window.runner.cancel, "Stop the job shown in the status bar")
    query.addSeparator()
    z_up = add(query, "z_up", "Dropped Meshes Are &Z-up", None, lambda: None,
               "Turn dropped meshes and point clouds from z-up (STL, CAD, ModelNet, SHREC'12) to y-up, as the "
               "demo shapes and ShapeNet are, so they do not lie on their side")
    z_up.setCheckable(True)
    z_up.toggled.connect(lambda on: set_z_up(window, on))

    tools = bar.addMenu("&Tools")
    add(tools, "train", "&Train Encoders…", "Ctrl+T", lambda: train_encoders(window),
        "Train encoders on this store's INRs, install them and embed the store")
    window.query_bar.addAction(selected)

    help_menu = bar.addMenu("&Help")
    add(help_menu, "shortcuts", "&Keyboard Shortcuts", "F1", lambda: show_shortcuts(window),
        "List every keyboard shortcut and mouse gesture")
    add(help_menu, "about", "&About INRet Browser", None, lambda: show_about(window),
        "What the browser does and how similarity is scored")
    return acts


def show_shortcuts(window) -> None:
    from .dialogs.shortcuts import ShortcutsDialog

    ShortcutsDialog(window.actions_by_name, window).exec()


def show_about(window) -> None:
    from PySide6.QtWidgets import QMessageBox

    from .messages import ACCEPTED, SIMILARITY_HELP

    QMessageBox.about(window, "About INRet Browser",
                      "<b>INRet Browser</b><p>Find similar 3D shapes in a store of implicit neural "
                      "representations (INRs) of any architecture and implicit function (SDF, UDF, Occ): every "
                      "INR is embedded in one shared space and compared there.</p>"
                      f"<p>{SIMILARITY_HELP}</p><p>To query with a file, drop {ACCEPTED} on the window.</p>"
                      "<p>Help ▸ Keyboard Shortcuts (F1) lists the keys.</p>")


def choose_store(window) -> None:
    start = str(window.store.root) if window.store is not None else ""
    folder = QFileDialog.getExistingDirectory(window, "Open an INR store", start)
    if folder:
        window.try_open(Path(folder))


def set_z_up(window, on: bool) -> None:
    """Whether the next dropped mesh or point cloud is turned from z-up to y-up before its INR is fitted."""
    import dataclasses

    window.controller.on_the_fly = dataclasses.replace(window.controller.on_the_fly, z_up=on)


def choose_query_file(window) -> None:
    pattern = " ".join(f"*{s}" for s in QUERY_SUFFIXES)
    path, _ = QFileDialog.getOpenFileName(window, "Query with a file", "", f"INRs, meshes, point clouds ({pattern})")
    if path:
        window.controller.query_file(Path(path))


def export_results(window) -> None:
    if window.controller.outcome is None:
        window.show_error("No results to export yet: double-click a shape first.")
        return
    name = f"{window.controller.outcome.subject.name}-results.csv"
    path, _ = QFileDialog.getSaveFileName(window, "Export results", name, "CSV (*.csv);;JSON (*.json)")
    if path:
        try:
            written = window.controller.export(Path(path))
        except (InretError, OSError) as exc:
            window.show_error(exc)
        else:
            window.statusBar().showMessage(f"Wrote {written}", 5000)


def save_screenshot(window, path: str | None = None) -> None:
    if path is None:
        path, _ = QFileDialog.getSaveFileName(window, "Save screenshot", "inret-browser.png", "PNG (*.png)")
    if path:
        ok = window.grab().save(path)
        window.statusBar().showMessage(f"Saved {path}" if ok else f"Could not write {path}", 5000)


def build_store(window) -> None:
    from .dialogs.build_store import BuildStoreDialog

    dialog = BuildStoreDialog(window, start=str(Path.home()))
    while dialog.exec() == QDialog.DialogCode.Accepted:
        try:
            options = dialog.options()
        except UsageError as exc:
            window.show_error(exc)
            continue
        source, out = dialog.source_text(), dialog.store_path()
        window.runner.start(lambda source=source, out=out, options=options: _build_job(source, out, options),
                            label=f"Building {out.name}",
                            on_done=lambda root: window.try_open(root))
        return


def _build_job(source: str, out: Path, options):
    """The job behind Build Store…: ``inret build-store SOURCE --out OUT``; returns the store folder."""
    from inret_engine.build import build_store, resolve_sources
    from inret_engine.progress import Progress
    from inret_engine.store import Store

    yield Progress(f"Finding shapes in {source}")
    sources = resolve_sources(source, categories=options.categories, per_category=options.per_category)
    with Store.create(Path(out)) as store:
        yield from build_store(store, sources, options)
    return Path(out)


def train_encoders(window) -> None:
    from .dialogs.train import TrainDialog

    if window.store is None:
        window.show_error("Open a store first: encoders are trained on a store's INRs.")
        return
    encoders = window.controller.encoders
    installed = {r.model.spec.arch for r in encoders.retrievers} if encoders else set()
    dialog = TrainDialog(trainable_archs(window.store), installed, window)
    while dialog.exec() == QDialog.DialogCode.Accepted:
        try:
            choice = dialog.choice()
        except UsageError as exc:
            window.show_error(exc)
            continue
        window.controller.train(choice)
        return
