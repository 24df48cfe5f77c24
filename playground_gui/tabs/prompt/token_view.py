"""The prompt as the text encoder sees it: one chip per token, the cut-off part struck out.

A chip is a link: clicking it emits ``token_clicked`` (the attention view shows that token's
map); chips of selected tokens are drawn in their map colour.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

CHIP_COLOURS = ("#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#ede9fe")


def token_html(info, selected: dict | None = None) -> str:
    """The chips; ``selected`` maps a token's index to the colour its chip is drawn in."""
    chips = []
    selected = selected or {}
    for index, token in enumerate(info.tokens):
        text = html.escape(token.replace("</w>", "␣"))
        if index >= info.usable:
            chips.append(f"<span style='background:#fecaca;color:#7f1d1d'><s>&nbsp;{text}&nbsp;</s></span>")
            continue
        if index in selected:
            style = f"background:{selected[index]};color:white;font-weight:bold"
        else:
            style = f"background:{CHIP_COLOURS[index % len(CHIP_COLOURS)]};color:black"
        chips.append(f"<a href='token:{index}' style='text-decoration:none;{style}'>"
                     f"&nbsp;{text}&nbsp;</a>")
    return " ".join(chips) or "<i>(empty prompt)</i>"


class ChipText(QTextBrowser):
    """Rich text that looks like a label, as tall as its text, with clickable chips."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().contentsChanged.connect(self._fit)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        self.document().setTextWidth(self.viewport().width())
        self.setFixedHeight(int(self.document().size().height()) + 4)


class PromptTokenView(QWidget):
    token_clicked = Signal(int)  # the index of a chip the user clicked

    def __init__(self, parent=None):
        super().__init__(parent)
        self.info = None
        self.selected: dict[int, str] = {}
        self.summary = QLabel("Tokens appear here once the model's tokenizer is available.")
        self.summary.setWordWrap(True)
        self.chips = ChipText()
        self.chips.anchorClicked.connect(self._on_link)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b00020")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.chips)
        layout.addWidget(self.warning)

    def set_info(self, info) -> None:
        self.info = info
        used = ("all used" if info.count <= info.usable
                else f"only the first {info.usable} are used")
        self.summary.setText(
            f"<b>{info.count}</b> tokens, {used} (the text encoder reads {info.max_tokens} "
            f"positions: a start marker, {info.usable} tokens, an end marker). ␣ marks a word end; "
            "click a token to see where it attends (below).")
        self.chips.setHtml(token_html(info, self.selected))
        self.warning.setText(info.warning)

    def set_selected(self, selected: dict[int, str]) -> None:
        """Draw these tokens' chips (index → colour) as selected."""
        self.selected = dict(selected)
        if self.info is not None:
            self.chips.setHtml(token_html(self.info, self.selected))

    def _on_link(self, url) -> None:
        text = url.toString()
        if text.startswith("token:"):
            self.token_clicked.emit(int(text.removeprefix("token:")))

    def set_message(self, text: str) -> None:
        self.info = None
        self.summary.setText(text)
        self.chips.clear()
        self.warning.clear()
