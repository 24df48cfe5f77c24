"""The "LoRA" page: what a LoRA changes, layer by layer (‖ΔW‖/‖W‖ at weight 1).

A bar per adapted layer in the model's order (text encoder first, then the UNet's down, middle
and up blocks), coloured by part; below, the layers it changes most.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

EXPLANATION = (
    "A LoRA does not replace the model's weights: it adds a low-rank update to some layers, "
    "ΔW = (alpha / rank) · up · down, scaled by the weight you give it. Each bar is the size of "
    "that update relative to the layer's own weights, ‖ΔW‖/‖W‖ (Frobenius norms, weight 1): "
    "0.01 is a nudge, 0.5 rewrites half the layer. Most LoRAs adapt the attention layers "
    "(to_q/to_k/to_v/to_out: what each position looks at and passes on); one trained with its "
    "text encoder also changes how words become embeddings. At weight 0 every update is zero: "
    "the base model exactly.")

PARTS = (("text encoder", "text_encoder", (70, 130, 180)),
         ("UNet down", "unet.down_blocks", (60, 160, 90)),
         ("UNet middle", "unet.mid_block", (200, 140, 40)),
         ("UNet up", "unet.up_blocks", (190, 70, 70)))
OTHER_COLOUR = (120, 120, 120)
TOP_LAYERS = 8


def part_of(layer: str) -> tuple[str, tuple[int, int, int]]:
    for label, prefix, colour in PARTS:
        if layer.startswith(prefix):
            return label, colour
    return "other", OTHER_COLOUR


class LoraDeltaView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        intro = QLabel(EXPLANATION)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.caption = QLabel("Press ΔW beside a LoRA (in the LoRA box) to see what it changes.")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(220)
        self.plot.setLabel("left", "‖ΔW‖ / ‖W‖")
        self.plot.setLabel("bottom", "adapted layer (model order)")
        self.plot.showGrid(y=True, alpha=0.3)
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # ratios, not units
        self.legend = self.plot.addLegend(offset=(-10, 10))
        layout.addWidget(self.plot, 1)
        # Long layer names scroll inside this box instead of widening the page.
        self.top = QPlainTextEdit(readOnly=True)
        self.top.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.top.setStyleSheet("font-family: monospace; font-size: 8pt")
        self.top.setFixedHeight(150)
        layout.addWidget(self.top)
        self.result = None

    def set_result(self, result) -> None:
        self.result = result
        self.plot.clear()
        self.legend.clear()
        values = np.nan_to_num(np.asarray(result.relative, dtype=np.float64))
        if not len(values):
            self.caption.setText(f"{result.name} adapts no layer of this model: it was made for "
                                 "another model family.")
            self.top.setPlainText("")
            return
        order = sorted(range(len(values)), key=lambda i: (self._part_index(result.layers[i]), i))
        x = np.arange(len(order))
        for label, _prefix, colour in PARTS + (("other", "", OTHER_COLOUR),):
            picked = [k for k, i in enumerate(order) if part_of(result.layers[i])[0] == label]
            if picked:
                bars = pg.BarGraphItem(x=x[picked], height=values[[order[k] for k in picked]],
                                       width=0.8, brush=pg.mkBrush(*colour), pen=None)
                self.plot.addItem(bars)
                self.legend.addItem(bars, label)
        ranks = sorted(set(result.ranks))
        self.caption.setText(
            f"{result.name}: {len(values)} layers adapted, rank {', '.join(map(str, ranks))}; "
            f"median ‖ΔW‖/‖W‖ {np.median(values):.3g}, largest {values.max():.3g}.")
        largest = np.argsort(values)[::-1][:TOP_LAYERS]
        self.top.setPlainText("Changed most:\n" + "\n".join(
            f"{values[i]:6.3g}  {result.layers[i]}" for i in largest))

    @staticmethod
    def _part_index(layer: str) -> int:
        for index, (_label, prefix, _colour) in enumerate(PARTS):
            if layer.startswith(prefix):
                return index
        return len(PARTS)
