"""Build a store from a mesh folder: the ``inret build-store`` options in a dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from inret_engine.build import BuildOptions
from inret_engine.errors import UsageError
from inret_engine.fields import ARCHITECTURES
from inret_engine.functions import ImplicitFunction

from . import ok_cancel

ARCH_LABELS = {"hash": "hash grid", "octree": "octree", "triplane": "triplane", "mlp": "MLP (SIREN, slow)"}


class BuildStoreDialog(QDialog):
    """Source folder (or the demo shapes), store folder, architectures, functions, per category, steps."""

    def __init__(self, parent: QWidget | None = None, *, start: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Build a store from a mesh folder")
        self.source = QLineEdit(placeholderText="folder of meshes / point clouds (dataset layout or plain)")
        self.demo = QCheckBox("Use the built-in procedural demo shapes instead")
        self.demo.toggled.connect(lambda on: self.source.setEnabled(not on))
        self.out = QLineEdit(placeholderText="new or existing store folder")
        self.archs = {a: QCheckBox(ARCH_LABELS.get(a, a)) for a in ARCHITECTURES}
        self.archs["hash"].setChecked(True)
        self.functions = {f: QCheckBox(f.value.upper()) for f in ImplicitFunction}
        for box in self.functions.values():
            box.setChecked(True)
        self.categories = QLineEdit(placeholderText="all (or e.g. Chair,Mug)")
        self.per_category = QSpinBox(minimum=0, maximum=100_000, value=0)
        self.per_category.setSpecialValueText("all")
        self.steps = QSpinBox(minimum=0, maximum=20_000, singleStep=50, value=0)
        self.steps.setSpecialValueText("default")
        self.align = QCheckBox("PCA-align shapes before fitting")

        form = QFormLayout(self)
        form.addRow("Shapes", self._with_browse(self.source, self._browse_source))
        form.addRow("", self.demo)
        form.addRow("Store", self._with_browse(self.out, self._browse_out))
        form.addRow("Architectures", self._row(self.archs.values()))
        form.addRow("Functions", self._row(self.functions.values()))
        form.addRow("Categories", self.categories)
        form.addRow("Per category", self.per_category)
        form.addRow("Fitting steps", self.steps)
        form.addRow("", self.align)
        form.addRow(ok_cancel(self, "Build"))
        self._start = start

    def _with_browse(self, edit: QLineEdit, browse) -> QWidget:
        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        return self._row([edit, button], stretch_first=True)

    @staticmethod
    def _row(widgets, *, stretch_first: bool = False) -> QWidget:
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        for i, w in enumerate(widgets):
            layout.addWidget(w, 1 if stretch_first and i == 0 else 0)
        if not stretch_first:
            layout.addStretch(1)
        return box

    def _browse_source(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of meshes", self._start)
        if folder:
            self.source.setText(folder)

    def _browse_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Store folder", self._start)
        if folder:
            self.out.setText(folder)

    # --- what was chosen -----------------------------------------------------------------
    def source_text(self) -> str:
        return "demo" if self.demo.isChecked() else self.source.text().strip()

    def store_path(self) -> Path:
        return Path(self.out.text().strip()).expanduser()

    def options(self) -> BuildOptions:
        """The chosen options; raises :class:`~inret_engine.errors.UsageError` naming what is missing."""
        if not self.source_text():
            raise UsageError("choose a folder of shapes (or the demo shapes)")
        if not self.out.text().strip():
            raise UsageError("choose a folder for the store")
        archs = tuple(a for a, box in self.archs.items() if box.isChecked())
        functions = tuple(f for f, box in self.functions.items() if box.isChecked())
        if not archs or not functions:
            raise UsageError("choose at least one architecture and one function")
        cats = tuple(c.strip() for c in self.categories.text().split(",") if c.strip()) or None
        return BuildOptions(archs=archs, functions=functions, categories=cats,
                            per_category=self.per_category.value() or None, steps=self.steps.value() or None,
                            align=self.align.isChecked(), isolated=True)  # beside the window: its own GIL
