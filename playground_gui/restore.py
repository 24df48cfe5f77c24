"""Routing "restore these parameters" to the tab (or Forward / reverse page) that made them.

A tab or page that can restore declares ``restores_kinds = {"digits", ...}`` and implements
``restore_parameters(request: dict) -> bool`` (True when the controls now show the request).
Tabs with sub-pages expose them as a ``pages`` QTabWidget, which is searched too.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget


def find_restorer(tabs: QTabWidget, kind: str) -> tuple[list[tuple[QTabWidget, int]], QWidget] | None:
    """The widget that restores ``kind`` and the tab indexes that lead to it, outermost first."""
    for index in range(tabs.count()):
        widget = tabs.widget(index)
        if kind in getattr(widget, "restores_kinds", ()) and hasattr(widget, "restore_parameters"):
            return [(tabs, index)], widget
        pages = getattr(widget, "pages", None)
        if isinstance(pages, QTabWidget):
            found = find_restorer(pages, kind)
            if found is not None:
                return [(tabs, index), *found[0]], found[1]
    return None


def restorer_title(tabs: QTabWidget, kind: str) -> str | None:
    """"Forward / reverse › Reverse" style name of the restoring tab, for buttons."""
    found = find_restorer(tabs, kind)
    if found is None:
        return None
    return " › ".join(widget.tabText(index) for widget, index in found[0])
