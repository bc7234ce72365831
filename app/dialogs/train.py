"""Train encoders: which architectures, and a few small settings with sensible defaults."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from inret_engine.errors import UsageError
from inret_engine.model_set import TrainChoice

from . import ok_cancel


class TrainDialog(QDialog):
    """One checkbox per architecture in the store; steps, shapes per step and split.

    Args:
        archs: architecture -> functions of its INRs in the store.
        installed: architectures that already have an encoder (not checked by default).
    """

    def __init__(self, archs: dict[str, list[str]], installed: set[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Train encoders")
        defaults = TrainChoice(archs=())
        intro = QLabel("Trains one encoder per architecture on this store's INRs, installs it in the store and "
                       "embeds every INR. The defaults take a few minutes per architecture on two CPU cores; "
                       "more steps give better retrieval.")
        intro.setWordWrap(True)
        self.boxes: dict[str, QCheckBox] = {}
        box_layout = QVBoxLayout()
        for arch, fns in archs.items():
            note = " — encoder installed" if arch in installed else ""
            box = QCheckBox(f"{arch} ({', '.join(f.upper() for f in fns)}){note}")
            box.setChecked(arch not in installed)
            self.boxes[arch] = box
            box_layout.addWidget(box)
        self.steps = QSpinBox(minimum=5, maximum=20_000, singleStep=50, value=defaults.steps)
        self.batch = QSpinBox(minimum=2, maximum=64, value=defaults.batch_shapes)
        self.split = QComboBox()
        self.split.addItem("train (all splits if too few)", "train")
        self.split.addItem("all", None)
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow("Architectures", box_layout)
        form.addRow("Steps", self.steps)
        form.addRow("Shapes per step", self.batch)
        form.addRow("Split", self.split)
        form.addRow(ok_cancel(self, "Train"))

    def choice(self) -> TrainChoice:
        """The chosen settings; raises :class:`~inret_engine.errors.UsageError` when no architecture is checked."""
        archs = tuple(a for a, box in self.boxes.items() if box.isChecked())
        if not archs:
            raise UsageError("choose at least one architecture to train")
        return TrainChoice(archs=archs, steps=self.steps.value(), batch_shapes=self.batch.value(),
                           split=self.split.currentData())
