"""The Reverse process page's "Guidance" tab: classifier-free guidance of the digits model taken
apart at the step shown, and the cut-off / rescale controls.

For the (first) run: ε̂(∅) and ε̂(digit) of the whole batch, their difference, the x̂₀ each
implies beside the guided x̂₀, and the norms of the parts over the steps (mean over the batch).
Its slider is the page's step slider's twin: moving either moves both.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.digits.types import DIFFERENCE_DISPLAY_RANGE
from playground_gui.widgets.guidance_plot import GuidanceNormsPlot
from playground_gui.widgets.image_grid import ImageGridView

EXPLANATION = (
    "Every step runs the U-Net on two copies of x_t: with the “no class” token, ε̂(∅), and with "
    "the digit, ε̂(digit) (for Stable Diffusion the first copy reads the negative prompt, which "
    "simply takes the empty prompt's place). Guidance moves along their difference: ε̂ = ε̂(∅) + "
    "g·(ε̂(digit) − ε̂(∅)). The difference (red in the plot) is tiny next to either prediction "
    "early on and grows once the digit's shape is being decided. After a guidance cut-off "
    "(grey band) the U-Net runs on the digit alone, half the batch. Rescale φ pulls the guided "
    "ε̂'s spread back to the conditional one's (green towards blue).")
PARTS = (
    ("ε̂(∅)", "The noise predicted without the digit (grey = 0, ±3)"),
    ("ε̂(digit)", "The noise predicted for the digit (grey = 0, ±3)"),
    ("ε̂(digit) − ε̂(∅)", f"Their difference, the direction guidance amplifies (grey = 0, "
                         f"±{DIFFERENCE_DISPLAY_RANGE:g})"),
    ("x̂₀ of ε̂(∅)", "The clean image the unconditional prediction implies"),
    ("x̂₀ of ε̂(digit)", "The clean image the conditional prediction implies"),
    ("x̂₀ guided", "The clean image the guided prediction implies (what the sampler uses)"),
)


def add_guidance_controls(page, form) -> None:
    """The cut-off and rescale spin boxes, after the guidance scale in the Sampling form."""
    page.guidance_cutoff_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, value=1.0,
                                               singleStep=0.05, decimals=2)
    page.guidance_cutoff_spin.setToolTip(
        "Guidance for the first fraction of the steps only; after it the U-Net sees the digit "
        "alone (half the batch). 1 = every step")
    page.guidance_rescale_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, value=0.0,
                                                singleStep=0.05, decimals=2)
    page.guidance_rescale_spin.setToolTip(
        "Guidance rescale φ (Lin et al. 2023): pull the guided ε̂'s spread back to the "
        "conditional one's. 0 = off")
    form.addRow("Guidance cut-off", page.guidance_cutoff_spin)
    form.addRow("Guidance rescale", page.guidance_rescale_spin)


def mean_norms(steps) -> np.ndarray | None:
    """(steps, 4) mean over the batch of each step's norms (NaN where a part did not run)."""
    if not steps:
        return None
    with np.errstate(invalid="ignore"):
        return np.stack([np.asarray(step.norms, dtype=np.float64).mean(axis=1) for step in steps])


class ReverseGuidanceView(QWidget):
    def __init__(self, page_slider: QSlider, parent=None):
        super().__init__(parent)
        self.page_slider = page_slider
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("The same step as the Sampling run tab's slider")
        self.slider.valueChanged.connect(self.page_slider.setValue)
        row.addWidget(QLabel("Step"))
        row.addWidget(self.slider, 1)
        layout.addLayout(row)
        self.caption = QLabel("Press Sample: the guidance of the run appears here, step by step.")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        grid = QGridLayout()
        self.views: list[ImageGridView] = []
        for index, (title, tip) in enumerate(PARTS):
            view = ImageGridView(title, tip, size=150)
            grid.addWidget(view, index // 3, index % 3)
            self.views.append(view)
        layout.addLayout(grid, 3)
        self.plot = GuidanceNormsPlot("ε̂(digit)", "ε̂(∅)")
        layout.addWidget(self.plot, 2)
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        explanation.setStyleSheet("color: #444")
        layout.addWidget(explanation)
        self.step = None  # the GuidanceStep shown
        self._plotted = None

    def show_position(self, run, position: int) -> None:
        """Show ``run``'s (a RunRecord) step at slider ``position``; None: nothing yet."""
        with QSignalBlocker(self.slider):
            self.slider.setRange(self.page_slider.minimum(), self.page_slider.maximum())
            self.slider.setValue(position)
        steps = [] if run is None else run.guidance
        if (id(run), len(steps)) != self._plotted:
            self._plotted = (id(run), len(steps))
            guided = run.guided_steps if run is not None else None
            self.plot.set_norms(mean_norms(steps), guided)
        if not steps:
            self.step = None
            for view in self.views:
                view.set_images(None)
            return
        index = max(0, min(position, len(steps) - 1))
        step = self.step = steps[index]
        images = (step.unconditional, step.conditional, step.difference,
                  step.pred_unconditional, step.pred_conditional, run.pred_original[index])
        for view, image in zip(self.views, images, strict=True):
            view.set_images(image, "" if image is not None else "not run at this step")
        self.plot.set_step(index + 1)
        self.caption.setText(self._caption(run, index, position))

    @staticmethod
    def _caption(run, index: int, position: int) -> str:
        r = run.request
        final = " (the final sample's last step)" if position > index else ""
        text = (f"Model call {index + 1}/{run.total or '?'}{final}, t = "
                f"{run.timesteps[index]:.0f} · guidance {r.guidance:g}")
        if r.label is None:
            return text + " · unconditional run: one branch, nothing to guide."
        if r.guidance in (0.0, 1.0):
            return text + f" · at g = {r.guidance:g} only one branch runs."
        guided = run.guided_steps
        if guided < (run.total or guided):
            text += f" · cut off after model call {guided}"
            if index >= guided:
                text += ": the digit's branch alone"
        if r.guidance_rescale:
            text += f" · rescale φ = {r.guidance_rescale:g}"
        return text + "."
