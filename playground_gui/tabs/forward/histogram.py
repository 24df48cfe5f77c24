"""The histogram of x_t's values over the N(0, 1) density, with the Markov chain's beside it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

from engine.forward.frames import HISTOGRAM_CENTRES, HISTOGRAM_EDGES
from playground_gui.widgets.plots import normal_pdf


class HistogramPlot(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setLabel("bottom", "value of x<sub>t</sub> (all pixels and channels)")
        self.setLabel("left", "density")
        self.setXRange(HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1], padding=0)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.addLegend(offset=(-8, 6), labelTextSize="9pt")
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        self.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.hist_curve = self.plot(
            HISTOGRAM_EDGES, np.zeros(len(HISTOGRAM_CENTRES)), stepMode="center", fillLevel=0,
            brush=pg.mkBrush(0, 114, 178, 90), pen=pg.mkPen("#0072B2", width=1),
            name="x<sub>t</sub>, closed form")
        self.markov_curve = self.plot(
            HISTOGRAM_EDGES, np.zeros(len(HISTOGRAM_CENTRES)), stepMode="center",
            pen=pg.mkPen("#D55E00", width=2))
        self.markov_curve.setVisible(False)
        xs = np.linspace(HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1], 400)
        self.plot(xs, normal_pdf(xs), name="N(0, 1) density",
                  pen=pg.mkPen("k", width=2, style=Qt.PenStyle.DashLine))
        self.top = 0.5
        self.setYRange(0, self.top, padding=0)
        for name in ("left", "bottom"):
            # Axes and grid change only with the range: paint them once into a pixmap.
            self.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAntialiasing(False)  # a step outline is axis-aligned anyway
        self.setMinimumHeight(100)

    def set_markov_listed(self, on: bool) -> None:
        """The chain's entry in the legend (its curve shows once it has data)."""
        if on and self.legend.getLabel(self.markov_curve) is None:
            self.legend.addItem(self.markov_curve, "x<sub>t</sub>, Markov chain")
        elif not on:
            self.legend.removeItem(self.markov_curve)

    def show_densities(self, closed: np.ndarray, markov: np.ndarray | None = None) -> None:
        self.hist_curve.setData(HISTOGRAM_EDGES, closed)
        densities = [closed]
        if markov is not None:
            densities.append(markov)
            self.markov_curve.setData(HISTOGRAM_EDGES, markov)
        # Rescale y only when the peak leaves the range or uses under half of it: a steady
        # axis is easier to read and is not redrawn on every frame.
        peak = max(0.45, max(float(d.max()) for d in densities))
        if not 0.5 * self.top < peak <= self.top:
            self.top = peak * 1.15
            self.setYRange(0, self.top, padding=0)
