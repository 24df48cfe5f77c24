"""The Reverse process page's "Spectrum" tab: the radially averaged power spectra of x_t, ε̂ and
x̂₀ at the step slider, averaged over the batch, log–log, over white noise's flat line.

It reads what the run recorded (``ReverseSession.frames``): the 8-bit images the page shows,
mapped back to their ranges. It owns a slider of its own that mirrors the run's (the run page,
with the other slider, is hidden while this tab shows); the page's only hook is adding the tab.
The first run's spectra in compare mode.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSlider,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.spectrum import radial_power_spectrum
from playground_gui.widgets.frame_view import ReadoutLine
from playground_gui.widgets.spectrum_plot import SpectrumPlot

# The ranges the digits sampler records its uint8 images from (engine.digits.sampling:
# x_t and x̂₀ from [−1, 1], ε̂ from ±NOISE_DISPLAY_RANGE; a test pins this to the engine's).
EPS_RANGE = 3.0
REFRESH_MS = 60  # after the run page's own redraw (40 ms) has moved its slider
POWER_RANGE = (1e-4, 30.0)
# No combining marks (the hats of ε̂, x̂₀) in this text: QTextBrowser draws them on the wrong
# line once the paragraph wraps. The plot's legend, drawn by pyqtgraph, has them.
NOTE = (
    "<p>How much of each image's variance sits at each spatial frequency (16×16 digits: "
    "8 rings, from 1 cycle per image to the finest, 8), averaged over the batch.</p>"
    "<p>At the first steps x<sub>t</sub> is noise: flat, like the dashed line. The predicted "
    "clean image, the network's guess of the digit, gets its coarse shape right early: its "
    "low-frequency points (left) reach the final sample's curve (grey) within the first third "
    "or so of the steps. Its high frequencies are noise at first (near t = T the guess, "
    "(x<sub>t</sub> − √(1−ᾱ)·ε)/√ᾱ with the predicted ε, magnifies every error) and settle onto "
    "the final curve only in the last steps. Coarse structure first, fine detail last: noise "
    "drowned the high frequencies first in the forward process, and sampling rebuilds them last "
    "(Dieleman 2024, “Diffusion is spectral autoregression”). The predicted noise stays near "
    "flat at 1, as noise should.</p>"
    "<p><small>From the recorded 8-bit images: x<sub>t</sub> is recorded clipped to [−1, 1], "
    "so at high noise its level sits below 1 (N(0, 1) noise clipped so has variance ≈ 0.4), "
    "still flat; the predicted clean image is shown in [−1, 1] as well.</small></p>")


def decode(pixels: np.ndarray, extent: float = 1.0) -> np.ndarray:
    """Recorded uint8 → values in [−extent, extent]."""
    return pixels.astype(np.float64) * (2 * extent / 255.0) - extent


def batch_spectrum(pixels: np.ndarray, extent: float = 1.0):
    """(frequencies, power averaged over the batch) of a B×H×W uint8 stack."""
    spectrum = radial_power_spectrum(decode(pixels, extent))
    return spectrum.frequencies, spectrum.power.reshape(-1, len(spectrum.frequencies)).mean(0)


class ReverseSpectrumPanel(QWidget):
    def __init__(self, page, parent=None):
        super().__init__(parent)
        self.page = page
        self.session = page.session
        slider_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("The run's step slider: scrub through the recorded steps")
        self.step_label = ReadoutLine("no run yet", bold=False)
        self.step_label.setFixedWidth(page.step_label.width())
        slider_row.addWidget(QLabel("Step"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.step_label)

        self.plot = SpectrumPlot()
        self.plot.add_curve("x_t", "x<sub>t</sub>", pg.mkPen("#0072B2", width=2.5), "o")
        self.plot.add_curve("eps", "ε̂ (predicted noise)", pg.mkPen("#D55E00", width=1.5), "o")
        self.plot.add_curve("x0", "x̂₀ (predicted clean image)", pg.mkPen("#009E73", width=2.5),
                            "o")
        self.plot.add_curve("final", "final sample", pg.mkPen(
            "#999", width=1.5, style=Qt.PenStyle.DashDotLine))
        self.plot.set_reference_name("white noise N(0, 1): flat at 1")
        self.plot.set_reference(np.array([1 / 16, 0.5]), 1.0)
        self.plot.set_ranges(np.array([1 / 16, 0.5]), *POWER_RANGE)
        note = QTextBrowser()
        note.setFrameShape(QFrame.Shape.NoFrame)
        note.setStyleSheet("background: transparent")
        note.setFixedWidth(320)
        note.setHtml(NOTE)
        row = QHBoxLayout()
        row.addWidget(self.plot, 1)
        row.addWidget(note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(slider_row)
        layout.addLayout(row, 1)

        self.spectra: dict[str, np.ndarray] = {}  # what is drawn, by curve key (tests)
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        # Pull, never pushed: whatever moved the run (its slider, a live step, the end of the
        # run), this tab reads the run's slider and the session when it next shows.
        page.slider.valueChanged.connect(self._schedule)
        for signal in (self.session.steps_recorded, self.session.run_done,
                       self.session.run_cancelled):
            signal.connect(self._schedule)
        self.slider.valueChanged.connect(page.slider.setValue)
        # Dragging here, as dragging the run's slider, stops the view following a live run.
        self.slider.sliderPressed.connect(lambda: setattr(page, "follow_live", False))

    def _schedule(self, *_) -> None:
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Mirror the run's slider and draw the spectra at its step."""
        source = self.page.slider
        with QSignalBlocker(self.slider):
            self.slider.setRange(source.minimum(), source.maximum())
            self.slider.setValue(source.value())
        frames = self.session.frames(source.value()) if self.session.has_steps() else []
        if not frames:
            self.step_label.setText("no run yet: press Sample")
            for key in self.plot.curves:
                self.plot.set_curve(key, None, None)
            self.spectra = {}
            return
        x_t, eps, x0, caption = frames[0][1]
        self.step_label.setText(caption + (" (first run)" if self.session.compare_mode else ""))
        spectra = {"x_t": batch_spectrum(x_t), "eps": batch_spectrum(eps, EPS_RANGE),
                   "x0": batch_spectrum(x0)}
        run = self.session.runs[0]
        if run.result is not None:  # where x̂₀ is heading
            spectra["final"] = batch_spectrum(run.x_t[-1])
        for key in self.plot.curves:
            self.plot.set_curve(key, *spectra.get(key, (None, None)))
        self.spectra = {key: power for key, (_, power) in spectra.items()}
