"""Routing "restore these parameters" to the tab (or Forward / reverse page) that made them.

A tab or page that can restore declares ``restores_kinds = {"digits", ...}`` and implements
``restore_parameters(request: dict) -> bool`` (True when the controls now show the request).
Tabs with sub-pages expose them as a ``pages`` QTabWidget, which is searched too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
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
    """"Forward / reverse › Reverse process" style name of the restoring tab, for buttons."""
    found = find_restorer(tabs, kind)
    if found is None:
        return None
    return " › ".join(widget.tabText(index) for widget, index in found[0])


def dropped_png(mime_data) -> str | None:
    """The first local .png file among dropped URLs."""
    if mime_data is None or not mime_data.hasUrls():
        return None
    for url in mime_data.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(".png"):
            return url.toLocalFile()
    return None


def show_parameters_dialog(window, path: str):
    """Read a PNG's parameters and open the dialog (Apply → ``window.restore``); a file that
    cannot be read gives the window's usual error message instead. Returns the dialog or None."""
    from engine.png.chunks import MetadataError, read_png_metadata
    from playground_gui.formatting import restore_target
    from playground_gui.widgets.parameters_view import ParametersDialog

    try:
        metadata = read_png_metadata(path)
    except MetadataError as exc:
        window.show_error("Cannot read parameters", str(exc))
        return None
    target = restore_target(metadata)
    title = restorer_title(window.tabs, target[0]) if target else None
    dialog = ParametersDialog(path, metadata, title, window)
    dialog.apply_requested.connect(window.restore)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
