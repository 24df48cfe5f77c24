"""The "Forward / reverse" tab: the noising process and the sampling process, one page each."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget


def page_classes():
    """Pages of this tab, in order; each is a QWidget(context) with a ``title``."""
    from playground_gui.tabs.forward.view import ForwardPage
    from playground_gui.tabs.reverse.view import ReversePage

    return [ForwardPage, ReversePage]


class ForwardReverseTab(QWidget):
    title = "Forward / reverse"

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.pages = QTabWidget()
        for cls in page_classes():
            self.pages.addTab(cls(context), cls.title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
