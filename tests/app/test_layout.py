"""The window fits 1024x700 to 2560x1440 with nothing cut off; Help lists the shortcuts; every control is labelled."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QAccessible  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QScrollBar,
    QTabBar,
    QWidget,
)

from app.dialogs.shortcuts import PANEL_KEYS, ShortcutsDialog  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.views.map_canvas import MapCanvas  # noqa: E402

CONTROLS = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QAbstractSlider, QAbstractItemView, QTabBar,
            MapCanvas)
"""Widgets people operate: each needs a tooltip and a name a screen reader can say."""


@pytest.fixture
def window(qtbot, bare_store):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.runner.idle, timeout=120_000):  # the shipped model embeds 27 INRs
        w.open_store(bare_store)
    return w


def resize(qtbot, window, w, h):
    window.resize(w, h)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (w, h), timeout=5000)
    qtbot.wait(1)  # let the layouts settle (zero-time event loop turn)


def not_cut_off(window) -> list[str]:
    """Controls narrower than their text needs (what a user would see cut off)."""
    problems = []
    bar = window.gallery.bar
    search = bar.search
    if search.width() < search.fontMetrics().horizontalAdvance(search.placeholderText()) + 40:
        problems.append(f"search box {search.width()} px for its hint")
    for field, combo in bar.combos.items():
        if combo.width() < combo.sizeHint().width():
            problems.append(f"{field} filter {combo.width()} < {combo.sizeHint().width()} px")
    for widget in window.findChildren(QWidget):
        if widget.isVisible() and isinstance(widget, (QAbstractButton, QComboBox)):
            if widget.width() < widget.minimumSizeHint().width():
                problems.append(f"{type(widget).__name__} {widget.objectName()} {widget.width()} px")
    legend = window.side.map.view.legend
    fm = legend.fontMetrics()
    for i in range(legend.count()):
        if fm.horizontalAdvance(legend.item(i).text()) + legend.iconSize().width() + 16 > legend.viewport().width():
            problems.append(f"legend entry {legend.item(i).text()!r}")
    return problems


def test_the_window_fits_1024x700_and_nothing_is_cut_off(qtbot, window):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700, hint
    resize(qtbot, window, 1024, 700)
    side = window.side
    assert not side.stacked and side.details.indexOf(side.map) >= 0  # the map is a tab on a short window
    assert window.gallery.bar.columns in (1, 2)  # the search box has a row of its own
    assert not_cut_off(window) == []
    assert window.gallery.list.height() > window.gallery.cell.height()  # a whole row of cards shows


@pytest.mark.parametrize("size", [(1366, 768), (1600, 1000), (2560, 1440)])
def test_larger_windows_show_the_map_above_the_details_when_there_is_room(qtbot, window, size):
    resize(qtbot, window, *size)
    side = window.side
    assert side.stacked == (side.height() >= 520)
    if side.stacked:
        assert side.indexOf(side.map) == 0 and [side.details.tabText(i) for i in range(side.details.count())] == [
            "Cutaways", "3D"]
    assert not_cut_off(window) == []
    if size == (2560, 1440):
        assert window.gallery.bar.columns == 0  # search box and filters on one row


def test_shrinking_and_growing_moves_the_map_between_tab_and_split(qtbot, window):
    resize(qtbot, window, 1600, 1000)
    assert window.side.stacked
    window.side.show_panel("3d")
    resize(qtbot, window, 1024, 700)
    assert not window.side.stacked and window.side.details.tabText(2) == "Map"
    window.side.show_panel("map")
    assert window.side.details.currentWidget() is window.side.map
    resize(qtbot, window, 1600, 1000)
    assert window.side.stacked and window.side.details.currentWidget() is window.side.cutaways
    assert window.side.map.isVisible() and window.side.map.height() > 200


def test_help_lists_every_menu_shortcut_and_the_panel_keys(qtbot, window):
    action = window.actions_by_name["shortcuts"]
    assert action.shortcut().toString() == "F1" and action.property("menu") == "Help"
    dialog = ShortcutsDialog(window.actions_by_name, window)
    qtbot.addWidget(dialog)
    rows = dialog.rows()
    keys = {row[1] for row in rows}
    for name, act in window.actions_by_name.items():
        for seq in act.shortcuts():
            assert any(seq.toString() in k for k in keys), (name, seq.toString())
    assert ("File", "Ctrl+O", "Open Store") in rows and ("Query", "Esc", "Cancel Running Job") in rows
    assert all(row in rows for row in PANEL_KEYS)
    assert any(where == "Map" and "Arrow" in k for where, k, _ in rows)


def _accessible_name(widget: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(widget)
    return iface.text(QAccessible.Name) if iface is not None else ""


def _inside_another_control(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QLineEdit, QTabBar)):  # their own parts
            return True
        parent = parent.parentWidget()
    return False


def test_every_control_has_a_tooltip_and_an_accessible_name(qtbot, window):
    resize(qtbot, window, 1024, 700)  # the map's tab exists too
    unlabelled = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or isinstance(widget, QScrollBar) or _inside_another_control(widget):
            continue  # a scroll bar belongs to the list it scrolls
        if widget.objectName().startswith("qt_") or widget.window() is not window:
            continue  # Qt's own parts (the tool bar's overflow arrow, scroll bar arrows)
        if not widget.toolTip().strip() or not _accessible_name(widget).strip():
            unlabelled.append(f"{type(widget).__name__} {widget.objectName()!r} {getattr(widget, 'text', str)()!r}")
    assert unlabelled == [], '\n'.join(unlabelled)
    assert all(a.toolTip().strip() for a in window.actions_by_name.values())


def test_the_map_is_in_the_tab_order(window):
    canvas = window.side.map.view.canvas
    seen, widget = set(), window.gallery.list
    while widget not in seen:
        seen.add(widget)
        widget = widget.nextInFocusChain()
    assert canvas in seen and canvas.focusPolicy() & canvas.focusPolicy().TabFocus
