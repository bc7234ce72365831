"""The first-run panel: what the demo store's first build is doing, how far it is, how long is left.

It fills the gallery's place while no shape is ready, then shrinks to one line above the
gallery as categories become browsable, and hides when the first phase is done. It reads
the build's records: :class:`~inret_engine.demo.PhaseProgress` (percentage, categories being
fitted, time left) and :class:`~inret_engine.demo.CategoryReady`; others are ignored.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QVBoxLayout, QWidget

from inret_engine.demo import duration_text

INTRO = ("First start only: a few shapes of every demo category are fitted as small neural fields "
         "(hash-grid SDFs) and embedded with the shipped model. Each category appears in the gallery "
         "as soon as it is ready — double-click a shape to find similar ones, or drop a mesh or .inr "
         "file on the window. The other architectures and functions follow in the background.")


CHIP_STYLE = {"waiting": "color:#6c7684", "fitting": "color:#d8dde6; font-weight:600",
              "ready": "color:#7fd196; font-weight:600"}


class FirstRunView(QFrame):
    """Title, introduction, overall progress with the time left, and one chip per category."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("firstRun")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel("Building the demo store", wordWrap=True)
        self.title.setObjectName("firstRunTitle")
        self.intro = QLabel(INTRO, wordWrap=True)
        self.intro.setObjectName("firstRunIntro")
        self.progress = QProgressBar()
        self.progress.setObjectName("firstRunProgress")
        self.progress.setRange(0, 100)
        self.progress.setAccessibleName("Progress of the first build")
        self.progress.setToolTip("How much of the first build is done, and about how long is left")
        self.chips = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.chips.setObjectName("firstRunChips")
        self.chips.setAccessibleName("Categories of the first build")
        self.states: dict[str, str] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.title)
        layout.addWidget(self.intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.chips)
        layout.addStretch(1)
        self.ready: list[str] = []
        self.hide()

    def start(self, categories: list[str]) -> None:
        """Show the panel for a build of these categories (in build order)."""
        self.states = dict.fromkeys(categories, "waiting")
        self.ready = []
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self._mark_fitting()
        self._set_compact(False)
        self.show()

    def show_progress(self, record) -> None:
        """Take one record of the build (a phase progress or a category that became ready)."""
        category = getattr(record, "category", None)
        if category is not None:
            self._category_ready(category, getattr(record, "seconds_left", None))
            return
        fitting = getattr(record, "categories", None)
        if fitting is None:  # another record of the build (a skipped source, a repair)
            return
        for category in fitting:
            if self.states.get(category) == "waiting":
                self._set_state(category, "fitting")
        done, left = int(record.done), record.seconds_left
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}%" + (f" · about {duration_text(left)} left" if left else ""))

    def finish(self) -> None:
        self.hide()

    def _category_ready(self, category: str, seconds_left: float | None) -> None:
        if category in self.states:
            self._set_state(category, "ready")
            self.ready.append(category)
        self._mark_fitting()
        self._set_compact(True)
        self.title.setText(f"Building the demo store — {len(self.ready)} of {len(self.states)} categories "
                           "ready to browse")

    def _mark_fitting(self) -> None:
        """The first category not ready yet is the one being fitted."""
        for category, state in self.states.items():
            if state == "waiting":
                self._set_state(category, "fitting")
                break
        self._show_states()

    def _set_state(self, category: str, state: str) -> None:
        self.states[category] = state
        self._show_states()

    def _show_states(self) -> None:
        """One line of categories that wraps: ready ones in green, the one being fitted in white."""
        self.chips.setText(" &nbsp; ".join(f"<span style='{CHIP_STYLE[state]}'>{'✓ ' if state == 'ready' else ''}"
                                           f"{category}</span>" for category, state in self.states.items()))
        self.chips.setToolTip("; ".join(f"{c}: {s}" for c, s in self.states.items()))

    def _set_compact(self, compact: bool) -> None:
        """Full panel while nothing can be browsed; a short strip above the gallery after."""
        self.intro.setVisible(not compact)
        self.setMaximumHeight(120 if compact else 16_777_215)

    def state(self, category: str) -> str:
        return self.states[category]
