"""A log–log plot of radially averaged power spectra with white noise's flat line for reference
(the forward and the reverse page both show one; the spectra come from ``engine.spectrum``)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

# A log axis cannot show 0: powers below this are drawn at it (it lies under the visible range).
POWER_FLOOR = 1e-12


def drawable(power: np.ndarray) -> np.ndarray:
    """``power`` with zeros, negatives (rounding) and non-finite values raised to the floor."""
    power = np.asarray(power, dtype=np.float64)
    return np.where(np.isfinite(power) & (power > POWER_FLOOR), power, POWER_FLOOR)


def frequency_ticks(low: float, high: float) -> list[list[tuple[float, str]]]:
    """Ticks at 1, 2, 5 × 10ⁿ between ``low`` and ``high`` (pyqtgraph's own log ticks label
    every minor step, and over two decades the labels run into each other)."""
    major, minor = [], []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in range(1, 10):
            value = mantissa * 10.0**exponent
            if low * 0.999 <= value <= high * 1.001:
                if mantissa in (1, 2, 5):
                    major.append((math.log10(value), f"{value:g}"))
                else:
                    minor.append((math.log10(value), ""))
    return [major, minor]


class SpectrumPlot(pg.PlotWidget):
    """Curves by key (``add_curve``), a flat white-noise line (``set_reference``) and a vertical
    marker (``set_marker``), on log–log axes whose range is set by the owner (steady while
    scrubbing: a range that followed every frame would hide the change it is there to show)."""

    def __init__(self, parent=None, legend: bool = True):
        super().__init__(parent, background="w")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setLogMode(x=True, y=True)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setLabel("bottom", "spatial frequency (cycles per pixel)")
        self.setLabel("left", "power")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.legend = None
        if legend:
            self.legend = self.addLegend(offset=(-6, 4), labelTextSize="8pt", verSpacing=-6)
            self.legend.setBrush(pg.mkBrush(255, 255, 255, 210))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.reference = self.plot([1e-3, 1.0], [1.0, 1.0], pen=pg.mkPen(
            "k", width=1.5, style=Qt.PenStyle.DashLine))
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(
            "#888", width=1, style=Qt.PenStyle.DotLine))
        self.marker.setVisible(False)
        self.addItem(self.marker, ignoreBounds=True)
        self.setMinimumHeight(100)

    def add_curve(self, key: str, name: str, pen, symbol: str | None = None) -> pg.PlotDataItem:
        item = self.plot([], [], pen=pen, symbol=symbol, symbolSize=5,
                         symbolPen=pen if symbol else None,
                         symbolBrush=pen.color() if symbol else None)
        self.curves[key] = item
        if self.legend is not None:
            self.legend.addItem(item, name)
        return item

    def set_reference_name(self, name: str) -> None:
        if self.legend is not None:
            self.legend.removeItem(self.reference)
            self.legend.addItem(self.reference, name)

    def set_curve(self, key: str, frequencies: np.ndarray | None, power: np.ndarray | None) -> None:
        """Show ``power`` over ``frequencies`` (None hides the curve)."""
        item = self.curves[key]
        if frequencies is None or power is None:
            item.setData([], [])
            item.setVisible(False)
            return
        item.setData(np.asarray(frequencies, dtype=np.float64), drawable(power))
        item.setVisible(True)

    def set_reference(self, frequencies: np.ndarray, level: float) -> None:
        """White noise of variance ``level``: flat at ``level`` over the shown frequencies."""
        level = max(float(level), POWER_FLOOR)
        self.reference.setData([float(frequencies[0]), float(frequencies[-1])], [level, level])

    def set_marker(self, frequency: float | None) -> None:
        self.marker.setVisible(frequency is not None)
        if frequency is not None:
            self.marker.setValue(math.log10(frequency))  # log mode: items sit in log10 units

    def set_ranges(self, frequencies: np.ndarray, low: float, high: float) -> None:
        """x over ``frequencies``, y from ``low`` to ``high`` (powers, not logs)."""
        self.setXRange(math.log10(frequencies[0]), math.log10(frequencies[-1]), padding=0.02)
        self.getAxis("bottom").setTicks(frequency_ticks(frequencies[0], frequencies[-1]))
        self.setYRange(math.log10(max(low, POWER_FLOOR)), math.log10(max(high, low * 10)),
                       padding=0.02)
