"""The left-hand column of controls that every tab has, scrolling when the window is short."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QScrollArea,
    QWidget,
)

_VALUE_CONTROLS = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class _WheelScrollsColumn(QObject):
    """A wheel turned over a spin box, combo or slider that the user has not clicked scrolls the
    column instead of silently changing that value (it changed a step count from 999 to 996
    while the user only meant to scroll)."""

    def __init__(self, scroll: QScrollArea):
        super().__init__(scroll)
        self.scroll = scroll

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            QApplication.sendEvent(self.scroll.verticalScrollBar(), event)
            return True
        return False


def scrolling_column(panel: QWidget, min_width: int, max_width: int,
                     horizontal_scroll: bool = True) -> QScrollArea:
    """Wrap a tab's control panel so it scrolls when the window is too small for it."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(panel)
    if not horizontal_scroll:  # for panels whose minimum width is already guaranteed
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(min_width)
    scroll.setMaximumWidth(max_width)
    guard = _WheelScrollsColumn(scroll)
    for control in panel.findChildren(QWidget):
        if isinstance(control, _VALUE_CONTROLS):
            control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone never focuses it
            control.installEventFilter(guard)
    return scroll


def form_group(title: str) -> tuple[QGroupBox, QFormLayout]:
    """A titled group of labelled controls, the unit every control column is built from."""
    box = QGroupBox(title)
    return box, QFormLayout(box)
