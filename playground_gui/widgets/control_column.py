"""The left-hand column of controls that every tab has, scrolling when the window is short."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget


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
    return scroll
