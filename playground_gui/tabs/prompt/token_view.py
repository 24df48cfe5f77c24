"""The prompt as the text encoder sees it: one chip per token, coloured by its attention weight,
grouped in the 75-token chunks the encoder reads (tokens a pipeline cuts off are struck out).

A chip is a link: clicking it emits ``token_clicked`` (the attention view shows that token's
map); chips of selected tokens are drawn in their map colour. With prompt editing or
alternation each text the run uses gets its own row, labelled with its steps.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

CHIP_COLOURS = ("#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#ede9fe")
UP, DOWN = (249, 115, 22), (37, 99, 235)  # weight > 1: orange, < 1: blue


def weight_colour(weight: float) -> str:
    """White → orange (×2 and more) or → blue (×½ and less), by |log₂ weight|."""
    if weight <= 0:
        return "#9ca3af"  # 0 or negative: grey
    amount = min(1.0, abs(math.log2(weight))) * 0.8 + 0.2
    target = UP if weight > 1 else DOWN
    mixed = (round(255 + (c - 255) * amount) for c in target)
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def _row(info, selected: dict, links: bool) -> list[str]:
    chips = []
    weights = info.weights or (1.0,) * info.count
    chunk_of = info.chunk_of or (0,) * info.count
    for index, token in enumerate(info.tokens):
        text = html.escape(token.replace("</w>", "␣"))
        if index and chunk_of[index] != chunk_of[index - 1]:
            chips.append(f"<b style='color:#6b7280'>│ chunk {chunk_of[index] + 1}:</b>")
        if index >= info.usable and not info.chunk_of:
            chips.append(f"<span style='background:#fecaca;color:#7f1d1d'><s>&nbsp;{text}&nbsp;</s></span>")
            continue
        weight = weights[index]
        if weight != 1.0:
            text += f"<sub>{weight:.3g}</sub>"
        if index in selected and links:
            style = f"background:{selected[index]};color:white;font-weight:bold"
        elif weight != 1.0:
            style = f"background:{weight_colour(weight)};color:black"
        else:
            style = f"background:{CHIP_COLOURS[index % len(CHIP_COLOURS)]};color:black"
        if links:
            chips.append(f"<a href='token:{index}' style='text-decoration:none;{style}'>"
                         f"&nbsp;{text}&nbsp;</a>")
        else:
            chips.append(f"<span style='{style}'>&nbsp;{text}&nbsp;</span>")
    return chips


def token_html(info, selected: dict | None = None) -> str:
    """The chips; ``selected`` maps a token's index to the colour its chip is drawn in."""
    chips = _row(info, selected or {}, links=True)
    if not info.later:
        return " ".join(chips) or "<i>(empty prompt)</i>"
    rows = [f"<b>steps {info.steps}:</b> " + (" ".join(chips) or "<i>(empty)</i>")]
    for other in info.later:
        rows.append(f"<b>steps {other.steps}:</b> " +
                    (" ".join(_row(other, {}, links=False)) or "<i>(empty)</i>"))
    return "<br>".join(rows)


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
        if info.truncated_text:
            used = f"only the first {info.usable} are used"
        elif info.chunks > 1:
            used = f"encoded in {info.chunks} chunks of up to {info.usable}, each on its own"
        else:
            used = "all used"
        edits = (" The prompt edits or alternates: a row per text, with the steps it is used."
                 if info.later else "")
        self.summary.setText(
            f"<b>{info.count}</b> tokens, {used} (the text encoder reads {info.max_tokens} "
            f"positions: a start marker, {info.usable} tokens, an end marker). ␣ marks a word end; "
            "orange chips are weighted up, blue down (the weight is written small: "
            "(word:1.3), (word) ×1.1, [word] ÷1.1)." + edits +
            " Click a token to see where it attends (below).")
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
