"""The prompt as the text encoder sees it: one chip per token, the cut-off part struck out."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

CHIP_COLOURS = ("#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#ede9fe")


def token_html(info) -> str:
    chips = []
    for index, token in enumerate(info.tokens):
        text = html.escape(token.replace("</w>", "␣"))
        if index >= info.usable:
            chips.append(f"<span style='background:#fecaca;color:#7f1d1d'><s>&nbsp;{text}&nbsp;</s></span>")
        else:
            colour = CHIP_COLOURS[index % len(CHIP_COLOURS)]
            chips.append(f"<span style='background:{colour}'>&nbsp;{text}&nbsp;</span>")
    return " ".join(chips) or "<i>(empty prompt)</i>"


class PromptTokenView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.info = None
        self.summary = QLabel("Tokens appear here once the model's tokenizer is available.")
        self.summary.setWordWrap(True)
        self.chips = QLabel()
        self.chips.setTextFormat(Qt.TextFormat.RichText)
        self.chips.setWordWrap(True)
        self.chips.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b00020")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.chips)
        layout.addWidget(self.warning)
        layout.addStretch(1)

    def set_info(self, info) -> None:
        self.info = info
        used = ("all used" if info.count <= info.usable
                else f"only the first {info.usable} are used")
        self.summary.setText(
            f"<b>{info.count}</b> tokens, {used} (the text encoder reads {info.max_tokens} "
            f"positions: a start marker, {info.usable} tokens, an end marker). ␣ marks a word end.")
        self.chips.setText(token_html(info))
        self.warning.setText(info.warning)

    def set_message(self, text: str) -> None:
        self.info = None
        self.summary.setText(text)
        self.chips.clear()
        self.warning.clear()
