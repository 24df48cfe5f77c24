"""The forward page's prediction targets: ε, x₀ and v = √ᾱ·ε − √(1−ᾱ)·x₀ side by side at the
slider's t, with the identities that turn one into another (widgets; the math is
``engine.forward.targets``)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QTextBrowser, QWidget

from engine.forward import targets
from engine.images import to_uint8
from playground_gui.widgets.frame_view import FrameView

SHOWN_SIDE = 192  # the views are small: targets are computed on this many pixels at most
NOTE = ("A network can be trained to predict any of the three: each one, with x<sub>t</sub>, "
        "gives the other two. ε-prediction (DDPM, Stable Diffusion 1.5) is easy at low noise "
        "and useless at pure noise, where ε = x<sub>t</sub>; x₀-prediction the reverse; v moves "
        "from ε (t = 0) to −x₀ (pure noise) and stays informative at both ends (Salimans &amp; "
        "Ho 2022; SD 2.x). Shown on [−1, 1] → black…white, like x<sub>t</sub>.")


def shown_pixels(image: np.ndarray) -> np.ndarray:
    """``image`` (H×W×C) subsampled to at most SHOWN_SIDE pixels a side (every k-th pixel)."""
    step = max(1, math.ceil(max(image.shape[:2]) / SHOWN_SIDE))
    return np.ascontiguousarray(image[::step, ::step])


class TargetsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout()
        grid.setSpacing(4)
        self.views = {}
        for column, (key, caption) in enumerate((("eps", "ε (the noise)"),
                                                 ("x0", "x₀ (the clean image)"),
                                                 ("v", "v = √ᾱ<sub>t</sub>·ε − √(1−ᾱ<sub>t</sub>)·x₀"))):
            label = QLabel(caption)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            view = FrameView("", minimum=72)
            grid.addWidget(label, 0, column)
            grid.addWidget(view, 1, column)
            self.views[key] = view
        grid.setRowStretch(1, 1)
        # Scrolls on a short window instead of growing over the image above.
        self.identities = QTextBrowser()
        self.identities.setFrameShape(QFrame.Shape.NoFrame)
        self.identities.setStyleSheet("background: transparent")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid, 3)
        layout.addWidget(self.identities, 4)
        self.x0: np.ndarray | None = None
        self.noise: np.ndarray | None = None
        self.v_pixels: np.ndarray | None = None
        self.round_trip_error = math.nan

    def sizeHint(self) -> QSize:
        # As short as the histogram: the image above keeps its room whichever view is shown.
        return QSize(600, 124)

    def set_images(self, x0: np.ndarray, noise: np.ndarray) -> None:
        """x₀ and ε (H×W×C floats in [−1, 1] and N(0, 1)) of the forward result."""
        self.x0, self.noise = shown_pixels(x0), shown_pixels(noise)
        self._x0_pixels, self._noise_pixels = to_uint8(self.x0), to_uint8(self.noise)
        self.views["x0"].set_array(self._x0_pixels)
        self.views["eps"].set_array(self._noise_pixels)

    def show_at(self, t: int, alpha_bar: float) -> None:
        if self.x0 is None:
            return
        alpha, sigma = targets.coefficients(alpha_bar)
        v = targets.velocity(self.x0, self.noise, alpha_bar)
        self.v_pixels = to_uint8(v)
        self.views["v"].set_array(self.v_pixels)
        # The identities, checked on these very pixels: x₀ and ε back from x_t and v.
        x_t = targets.noised(self.x0, self.noise, alpha_bar)
        self.round_trip_error = max(
            float(np.abs(targets.x0_from_v(x_t, v, alpha_bar) - self.x0).max()),
            float(np.abs(targets.eps_from_v(x_t, v, alpha_bar) - self.noise).max()))
        lines = "<br>".join(targets.IDENTITIES)
        self.identities.setHtml(
            f"<b>t = {t}: α = √ᾱ<sub>t</sub> = {alpha:.4f}, σ = √(1−ᾱ<sub>t</sub>) = "
            f"{sigma:.4f}</b><br>{lines}<br><span style='color:#555'>Checked on these pixels: "
            f"x₀ and ε recovered from x<sub>t</sub> and v to within "
            f"{self.round_trip_error:.1e}.</span><br><span style='color:#444'>{NOTE}</span>")
