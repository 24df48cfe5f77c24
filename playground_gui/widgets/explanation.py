"""A collapsible "What am I looking at?" panel whose text lives in resources/text/."""

from __future__ import annotations

from PySide6.QtWidgets import QTextBrowser, QToolButton, QVBoxLayout, QWidget

from resources import read_text


class ExplanationPanel(QWidget):
    def __init__(self, resource_name: str, title: str = "What am I looking at?",
                 expanded: bool = False, parent=None):
        super().__init__(parent)
        self.toggle = QToolButton(text=title, checkable=True, checked=expanded)
        self.toggle.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.toggle.setToolButtonStyle(self.toggle.toolButtonStyle().ToolButtonTextBesideIcon)
        self.body = QTextBrowser()
        self.body.setOpenExternalLinks(True)
        self.body.setHtml(read_text("text", resource_name))
        self.body.setVisible(expanded)
        self._update_arrow(expanded)
        self.toggle.toggled.connect(self._set_expanded)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body, 1)

    def _update_arrow(self, expanded: bool) -> None:
        from PySide6.QtCore import Qt

        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)

    def _set_expanded(self, expanded: bool) -> None:
        self.body.setVisible(expanded)
        self._update_arrow(expanded)
