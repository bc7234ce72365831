"""The map's projection controls and its saved-views menu.

:class:`ProjectionBar` picks how the embeddings are laid out (t-SNE with its perplexity,
PCA with the components shown as x and y, UMAP with its neighbours where ``umap-learn``
is installed), flat or in 3D (the "3D" toggle: shown in a view the user turns), and says
so with ``changed(Projection)``; the layout itself is computed by
:func:`inret_engine.retrieval.map_layout.compute_map`. :class:`ViewsButton` is the "Views" menu:
save the current view under a name, restore or delete a saved one.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from inret_engine.retrieval.map_layout import METHODS, Projection, available_methods
from inret_engine.retrieval.map_views import SavedView

PCA_PAIRS = ((1, 2), (1, 3), (2, 3), (3, 4))
"""The component pairs PCA offers as x and y."""
PCA_TRIPLES = ((1, 2, 3), (2, 3, 4), (1, 3, 4))
"""The component triples a 3D PCA offers as x, y and z."""
MAX_PERPLEXITY = 100


class ProjectionBar(QWidget):
    """Projection method and its main parameter.

    Signals:
        changed(object): the user chose another :class:`Projection`.
    """

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.method = QComboBox()
        self.method.setObjectName("mapProjection")
        for method in available_methods():
            self.method.addItem(METHODS[method], method)
        self.method.setToolTip("How the embeddings are laid out in 2D: t-SNE keeps neighbours together, PCA shows the "
                               "directions of largest variance" + (", UMAP keeps neighbours and more of the global "
                                                                   "shape" if self.method.count() > 2 else
                                                                   " (UMAP shows here once umap-learn is installed)"))
        self.method.setAccessibleName("Map projection")
        self.perplexity = QSpinBox(minimum=0, maximum=MAX_PERPLEXITY, value=0)
        self.perplexity.setKeyboardTracking(False)
        self.perplexity.setSpecialValueText("auto")
        self.perplexity.setObjectName("mapPerplexity")
        self.perplexity.setToolTip("t-SNE perplexity: about how many neighbours each point keeps close (auto: a third "
                                   "of the points, at most 30)")
        self.perplexity.setAccessibleName("t-SNE perplexity")
        self.components = QComboBox()
        self.components.setObjectName("mapComponents")
        self.components.setAccessibleName("PCA components shown")
        self.neighbors = QSpinBox(minimum=2, maximum=200, value=15)
        self.neighbors.setKeyboardTracking(False)
        self.neighbors.setObjectName("mapNeighbors")
        self.neighbors.setToolTip("UMAP neighbours: small values show local detail, large ones the global shape")
        self.neighbors.setAccessibleName("UMAP neighbours")
        self.dims = QToolButton()
        self.dims.setText("3D")
        self.dims.setCheckable(True)
        self.dims.setObjectName("mapDims")
        self.dims.setToolTip("Lay the points out in 3D and turn the view with the mouse (drag) or Shift+arrow keys")
        self.dims.setAccessibleName("Three-dimensional map")
        self.params = QStackedWidget()
        for label, widget in (("perplexity", self.perplexity), ("", self.components), ("neighbours", self.neighbors)):
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            if label:
                caption = QLabel(label)
                caption.setObjectName("filterLabel")
                row.addWidget(caption)
            row.addWidget(widget)
            self.params.addWidget(page)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.method)
        layout.addWidget(self.params)
        layout.addWidget(self.dims)
        self._fill_components()
        self._show_params()
        self.method.currentIndexChanged.connect(self._method_changed)
        self.perplexity.valueChanged.connect(self._emit)
        self.components.currentIndexChanged.connect(self._emit)
        self.neighbors.valueChanged.connect(self._emit)
        self.dims.toggled.connect(self._dims_toggled)

    def projection(self) -> Projection:
        """The chosen projection; only the chosen method's parameter is set (the rest are defaults), so two
        choices of the same layout are equal."""
        method, dims = self.method.currentData(), 3 if self.dims.isChecked() else 2
        if method == "pca":
            return Projection("pca", components=self._choices()[max(self.components.currentIndex(), 0)], dims=dims)
        if method == "umap":
            return Projection("umap", neighbors=self.neighbors.value(), dims=dims)
        return Projection("tsne", perplexity=float(self.perplexity.value()) if self.perplexity.value() else None,
                          dims=dims)

    def set_projection(self, projection: Projection) -> bool:
        """Show ``projection`` in the controls without emitting ``changed``; False if it cannot be shown here
        (UMAP without umap-learn, or PCA components this bar does not offer)."""
        i = self.method.findData(projection.method)
        choices = PCA_TRIPLES if projection.dims == 3 else PCA_PAIRS
        j = choices.index(projection.components) if projection.components in choices else -1
        if i < 0 or (projection.method == "pca" and j < 0):
            return False
        for w in (self.method, self.perplexity, self.components, self.neighbors, self.dims):
            w.blockSignals(True)
        self.method.setCurrentIndex(i)
        self.dims.setChecked(projection.dims == 3)
        self._fill_components()
        self.perplexity.setValue(0 if projection.perplexity is None else round(projection.perplexity))
        self.components.setCurrentIndex(max(j, 0))
        self.neighbors.setValue(projection.neighbors)
        for w in (self.method, self.perplexity, self.components, self.neighbors, self.dims):
            w.blockSignals(False)
        self._show_params()
        return True

    def _show_params(self) -> None:
        self.params.setCurrentIndex({"tsne": 0, "pca": 1, "umap": 2}[self.method.currentData()])

    def _choices(self) -> tuple[tuple[int, ...], ...]:
        return PCA_TRIPLES if self.dims.isChecked() else PCA_PAIRS

    def _fill_components(self) -> None:
        """The PCA choices for the chosen dimension, keeping the first component where it can."""
        first = self.components.currentText().split(" × ")[0]
        self.components.blockSignals(True)
        self.components.clear()
        for combo in self._choices():
            self.components.addItem(" × ".join(f"PC{c}" for c in combo))
        texts = [self.components.itemText(k) for k in range(self.components.count())]
        self.components.setCurrentIndex(next((k for k, t in enumerate(texts) if t.startswith(first + " ")), 0))
        self.components.blockSignals(False)
        self.components.setToolTip("Which principal components are the map's axes (x, y" +
                                   (", z)" if self.dims.isChecked() else ")"))

    def _dims_toggled(self, _on: bool) -> None:
        self._fill_components()
        self._emit()

    def _method_changed(self, _i: int) -> None:
        self._show_params()
        self._emit()

    def _emit(self, *_) -> None:
        self.changed.emit(self.projection())


class ViewsButton(QToolButton):
    """The "Views" menu: Save View…, then one entry per saved view, and a Delete submenu.

    Signals:
        save_requested(str): save the current view under this name.
        restore_requested(object): show this :class:`SavedView`.
        delete_requested(str): forget the view of this name.
    """

    save_requested = Signal(str)
    restore_requested = Signal(object)
    delete_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setText("Views")
        self.setObjectName("mapViews")
        self.setToolTip("Saved views of the map (projection, colours, zoom, isolated points, the query), kept in the "
                        "store")
        self.setAccessibleName("Saved map views")
        self.setStyleSheet("QToolButton { padding: 3px 18px 3px 6px; } QToolButton::menu-indicator "
                           "{ subcontrol-origin: padding; subcontrol-position: right center; right: 4px; }")
        self.setMenu(QMenu(self))
        self.set_views([])

    def set_views(self, views: list[SavedView]) -> None:
        menu = self.menu()
        menu.clear()
        menu.addAction("Save View…", self._ask_name).setObjectName("mapSaveView")
        if views:
            menu.addSeparator()
        for view in views:
            action = menu.addAction(view.name, partial(self.restore_requested.emit, view))
            action.setToolTip(f"{view.projection.label()}, coloured by {view.colour_by}"
                              + (f", {len(view.isolated)} points isolated" if view.isolated else "")
                              + (f", query id {view.query}" if view.query is not None else ""))
        if views:
            delete = menu.addMenu("Delete")
            for view in views:
                delete.addAction(view.name, partial(self.delete_requested.emit, view.name))
        menu.setToolTipsVisible(True)

    def _ask_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Save Map View", "Name of this view:")
        if ok and name.strip():
            self.save_requested.emit(name.strip())
