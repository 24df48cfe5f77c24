"""The norms of classifier-free guidance's parts over the steps (digits and Stable Diffusion).

Four curves, one per part (engine.samplers.guidance.NORM_NAMES: ε̂(∅), ε̂(c), ε̂(c) − ε̂(∅), the
guided ε̂), against the model call; a dashed line at the step shown and a shaded band after the
guidance cut-off, where only the conditional branch runs (the ∅ and difference curves stop
there: those values are NaN and pyqtgraph leaves gaps, never draws them).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

# Curve colours per part, and the names the legend shows.
PART_STYLES = (
    ("unconditional", "ε̂(∅) / negative", "#6b7280"),
    ("conditional", "ε̂(prompt)", "#2563eb"),
    ("difference", "ε̂(prompt) − ε̂(∅)", "#dc2626"),
    ("guided", "guided ε̂ (used)", "#16a34a"),
)


class GuidanceNormsPlot(pg.PlotWidget):
    def __init__(self, conditional_name: str = "ε̂(prompt)",
                 unconditional_name: str = "ε̂(∅) / negative", parent=None):
        super().__init__(parent=parent, background="w")
        self.setMinimumHeight(190)
        self.setLabel("bottom", "model call")
        self.setLabel("left", "RMS")
        self.getAxis("left").enableAutoSIPrefix(False)  # "RMS (x0.001)" reads badly
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(-4, 4), labelTextSize="8pt")
        self.curves = {}
        for key, name, colour in PART_STYLES:
            label = name.replace("ε̂(prompt)", conditional_name).replace(
                "ε̂(∅) / negative", unconditional_name)
            self.curves[key] = self.plot([], [], pen=pg.mkPen(colour, width=2), name=label,
                                         connect="finite")
        self.cutoff_band = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(0, 0, 0, 18),
                                               pen=pg.mkPen(None))
        self.cutoff_band.setZValue(-10)
        self.cutoff_band.setVisible(False)
        self.addItem(self.cutoff_band)
        self.step_line = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        self.step_line.setVisible(False)
        self.addItem(self.step_line)
        self.values: np.ndarray | None = None

    def set_norms(self, norms: np.ndarray | None, guided_steps: int | None = None) -> None:
        """``norms``: (model calls, 4) RMS per part (NaN where a part did not run);
        ``guided_steps``: the calls with guidance (a band marks the rest), None for all."""
        self.values = None if norms is None else np.asarray(norms, dtype=np.float64)
        if self.values is None or not len(self.values):
            for curve in self.curves.values():
                curve.setData([], [])
            self.cutoff_band.setVisible(False)
            return
        steps = np.arange(1, len(self.values) + 1)
        for column, (key, _name, _colour) in enumerate(PART_STYLES):
            self.curves[key].setData(steps, self.values[:, column])
        calls = len(self.values)
        cut = guided_steps is not None and 0 < guided_steps < calls
        self.cutoff_band.setVisible(cut)
        if cut:
            self.cutoff_band.setRegion((guided_steps + 0.5, calls + 0.5))
        self.enableAutoRange()

    def set_step(self, step: int | None) -> None:
        self.step_line.setVisible(step is not None)
        if step is not None:
            self.step_line.setValue(step)
