"""The forward page's power spectrum: x_t's, and its two parts √ᾱ·x₀ and √(1−ᾱ)·ε, at the slider's
t, over white noise's flat line (widgets only; the spectra come with the forward result)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QTextBrowser, QWidget

from engine.spectrum import SpectrumParts, drowned_frequency
from playground_gui.widgets.spectrum_plot import SpectrumPlot

NOTE = ("White noise is flat: the same power at every frequency. An image's power falls steeply "
        "with frequency, so as t grows the flat noise covers its finest detail first and its "
        "coarse shapes last. Generation runs this backwards: coarse structure first, fine detail "
        "last (Dieleman 2024, “Diffusion is spectral autoregression”).")


def drowned_text(frequency: float | None, first: float) -> str:
    """What the dotted line marks, in words."""
    if frequency is None:
        return "The image outweighs the noise at every frequency."
    if frequency <= first:
        return "The noise outweighs the image at every frequency shown."
    return (f"Noise outweighs the image above ≈ {frequency:.3g} cycles/px: detail finer than "
            f"≈ {1 / frequency:.3g} px is drowned.")


# Curves: key, pen colour, width, style, legend text (the legend is in the side column: a
# legend inside a plot this short would cover it).
CURVES = (
    ("x_t", "#0072B2", 2.5, Qt.PenStyle.SolidLine, "x<sub>t</sub>"),
    ("signal", "#009E73", 2.0, Qt.PenStyle.DashLine, "√ᾱ<sub>t</sub>·x₀, the image's part"),
    ("noise", "#D55E00", 1.0, Qt.PenStyle.SolidLine, "√(1−ᾱ<sub>t</sub>)·ε, the noise's part"),
)
REFERENCE_KEY = "white noise of variance 1−ᾱ<sub>t</sub>: flat"


def swatch(color: str, style: str = "solid") -> str:
    return (f"<span style='color:{color}; font-weight:bold'>"
            f"{'━━' if style == 'solid' else '╍╍'}</span>")


class ForwardSpectrumPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = SpectrumPlot(legend=False)
        key_lines = []
        for key, color, width, style, text in CURVES:
            self.plot.add_curve(key, text, pg.mkPen(color, width=width, style=style))
            key_lines.append(swatch(color, "solid" if style == Qt.PenStyle.SolidLine else "dash")
                             + " " + text)
        key_lines.append(swatch("#000", "dash") + " " + REFERENCE_KEY)
        key_lines.append(swatch("#888", "dash") + " where the noise overtakes the image")
        self.key = "<br>".join(key_lines)
        # Readout, key and note in one scrolling text: on a short window nothing overlaps.
        self.side = QTextBrowser()
        self.side.setFrameShape(QFrame.Shape.NoFrame)
        self.side.setStyleSheet("background: transparent")
        self.side.setFixedWidth(330)
        self.readout = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.side)
        self._show_text()
        self.parts: SpectrumParts | None = None
        self.drowned: float | None = None

    def sizeHint(self) -> QSize:
        # As short as the histogram: the image above keeps its room whichever view is shown.
        return QSize(600, 124)

    def set_parts(self, parts: SpectrumParts | None) -> None:
        """A new x₀ and ε: fix the axes to cover the image's spectrum and unit white noise."""
        self.parts = parts
        if parts is None:  # an image 1 pixel thin has no spatial frequencies to show
            for key in self.plot.curves:
                self.plot.set_curve(key, None, None)
            self.plot.set_marker(None)
            self.plot.reference.setVisible(False)
            self.drowned = None
            self.readout = "This image is 1 pixel thin: it has no spatial frequencies to show."
            self._show_text()
            return
        signal = parts.signal[parts.signal > 0]
        top = max(float(parts.signal.max(initial=0)), float(parts.noise.max()), 1.0)
        bottom = min(float(signal.min()) if len(signal) else 1e-6, 1e-3)
        self.plot.set_ranges(parts.frequencies, bottom * 0.5, top * 2.0)

    def show_at(self, alpha: float, sigma: float) -> None:
        """The spectra at √ᾱ = ``alpha``, √(1−ᾱ) = ``sigma``."""
        parts = self.parts
        if parts is None:
            return
        frequencies = parts.frequencies
        signal = alpha * alpha * parts.signal
        self.plot.set_curve("x_t", frequencies, parts.mixed(alpha, sigma))
        self.plot.set_curve("signal", frequencies, signal)
        self.plot.set_curve("noise", frequencies, sigma * sigma * parts.noise)
        self.plot.set_reference(frequencies, sigma * sigma)
        self.plot.reference.setVisible(True)
        self.drowned = drowned_frequency(signal, sigma * sigma, frequencies)
        self.plot.set_marker(self.drowned)
        self.readout = drowned_text(self.drowned, float(frequencies[0]))
        self._show_text()

    def _show_text(self) -> None:
        self.side.setHtml(f"<b>{self.readout}</b><br>{self.key}<br>"
                          f"<span style='color:#444'>{NOTE}</span>")

    def curve_data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(frequencies, power) of a curve as given to the plot (tests)."""
        item = self.plot.curves[key]
        return np.asarray(item.xData), np.asarray(item.yData)
