"""The Prompt tab's "Guidance" page: classifier-free guidance taken apart at the step shown.

Both halves of the UNet's batch (the negative or empty prompt's ε̂ and the prompt's), their
difference, the x̂₀ each implies next to the guided x̂₀, and the norms of the parts over every
step; scrubbed by the result's step slider. The images are the cheap latent→RGB sketch (the
same map as the live preview). ``guidance_frame`` (no widgets) picks what to show;
``add_guidance_controls`` adds the two options to the settings form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.images import to_uint8
from engine.stable_diffusion.denoiser_types import is_flow_matching
from engine.stable_diffusion.previews import latents_to_rgb, preview_family, result_family
from playground_gui.widgets.guidance_plot import GuidanceNormsPlot
from playground_gui.widgets.images import pixmap_from_array

CELL = 104
EXPLANATION = (
    "Every step runs the UNet on two copies of x_t: without the prompt, ε̂(∅), and with it, "
    "ε̂(prompt). A negative prompt is nothing more than the text of that first copy: it simply "
    "takes the empty prompt's place. Guidance moves along their difference: ε̂ = ε̂(∅) + "
    "g·(ε̂(prompt) − ε̂(∅)). The difference is small next to either prediction (red against "
    "blue in the plot): it takes a scale of 5–10 to matter. Below: the clean image x̂₀ each "
    "prediction implies. After a cut-off (grey band) the UNet runs on the prompt alone, half "
    "the batch. Rescale φ pulls the guided ε̂'s spread (green) back to the prompt's (blue).")


def add_guidance_controls(view, form) -> None:
    """The cut-off and rescale spin boxes, under the guidance scale in the Sampling form."""
    view.guidance_cutoff_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, value=1.0,
                                               singleStep=0.05, decimals=2)
    view.guidance_cutoff_spin.setToolTip(
        "Guidance for the first fraction of the steps only; after it the UNet runs on the "
        "prompt alone (half the batch, faster). 1 = every step; 0 = no guidance at all")
    view.guidance_rescale_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, value=0.0,
                                                singleStep=0.05, decimals=2)
    view.guidance_rescale_spin.setToolTip(
        "Guidance rescale φ (Lin et al. 2023): pulls the guided prediction's spread back to the "
        "prompt's, against over-exposed, burnt images at high guidance. 0 = off; 0.7 is usual")
    form.addRow("CFG cut-off", view.guidance_cutoff_spin)  # short: the column stays narrow
    form.addRow("CFG rescale", view.guidance_rescale_spin)


def add_guidance_page(view) -> None:
    """The Guidance page, last among the result-side pages (after the result panel exists)."""
    view.guidance_view = PromptGuidanceView(view.session, view.result_panel)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(view.guidance_view)
    view.pages.addTab(scroll, "Guidance")


@dataclass(frozen=True)
class GuidanceFrame:
    """What the page shows for one image at one step: six 4×h×w latents (None: not there)."""

    step: int  # 1-based model call
    timestep: float
    unconditional: np.ndarray | None
    conditional: np.ndarray | None
    difference: np.ndarray | None
    pred_unconditional: np.ndarray | None
    pred_conditional: np.ndarray | None
    pred_guided: np.ndarray | None


def no_guidance_text(result) -> str:
    """Why a result has no guidance record (SD 3/Flux: guided inside their pipeline)."""
    if result is None:
        return "Generate an image: its guidance appears here, step by step."
    info = getattr(result, "model_info", None)
    if info is not None and is_flow_matching(info.pipeline_class):
        return ("SD 3 and Flux are guided inside their pipeline (Flux-dev: the guidance scale is "
                "an input of the transformer), so there are no UNet branches to take apart here.")
    return "No guidance was recorded for this result."


def guidance_frame(result, image_index: int, position: int) -> GuidanceFrame | None:
    """The recorded parts of image ``image_index`` at the step slider's ``position`` (the
    result's n-th recorded step), None when that step's branches were not recorded."""
    record = getattr(result, "guidance", None)
    if record is None:
        return None
    per_batch = max(1, int(result.parameters.get("batch_size", 1)))
    batch, within = divmod(image_index, per_batch)
    step = result.step_number(position)
    row = record.row(step)
    if row is None or batch >= len(record.conditional) or row >= len(record.conditional[batch]):
        return None

    def part(arrays):
        return np.asarray(arrays[batch][row, within], dtype=np.float32)

    has_unconditional = record.has_unconditional[row]
    unconditional = part(record.unconditional) if has_unconditional else None
    conditional = part(record.conditional)
    guided = None
    if step in result.recorded_steps and batch < len(result.step_predictions):
        guided = np.asarray(result.step_predictions[batch][result.recorded_steps.index(step),
                                                            within], dtype=np.float32)
    return GuidanceFrame(
        step, record.timesteps[row], unconditional, conditional,
        None if unconditional is None else conditional - unconditional,
        part(record.pred_unconditional) if has_unconditional else None,
        part(record.pred_conditional), guided)


def signed_rgb(latents: np.ndarray, family=None) -> tuple[np.ndarray, float]:
    """A small signed latent (the difference) through the family's latent→RGB map without its
    bias (a difference has none), stretched to its own largest |value| (returned), so its
    pattern shows; grey = 0."""
    chosen = preview_family(latents, family)
    rgb = np.einsum("chw,cr->hwr", np.asarray(latents, np.float32),
                    np.asarray(chosen.rgb_factors, np.float32)) \
        if chosen is not None else np.asarray(latents, np.float32).mean(axis=0)[..., None]
    bound = float(np.abs(rgb).max()) or 1.0
    return to_uint8(np.broadcast_to(rgb, rgb.shape[:2] + (3,)), -bound, bound), bound


class PromptGuidanceView(QWidget):
    """The Guidance page; follows the session's result, image and the step slider."""

    NAMES = ("ε̂(∅ / negative)", "ε̂(prompt)", "difference", "x̂₀ of ε̂(∅)", "x̂₀ of ε̂(prompt)",
             "x̂₀ guided")

    def __init__(self, session, result_panel, parent=None):
        super().__init__(parent)
        self.session = session
        self.slider = result_panel.step_slider
        layout = QVBoxLayout(self)
        self.caption = QLabel("Generate an image: its guidance appears here, step by step.")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        grid = QGridLayout()
        self.cells: list[QLabel] = []
        self.cell_captions: list[QLabel] = []
        for index, name in enumerate(self.NAMES):
            cell = QLabel()
            cell.setFixedSize(CELL, CELL)
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setStyleSheet("background: #20232a; color: #aaa")
            cell.setWordWrap(True)
            caption = QLabel(name)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setFixedWidth(CELL)
            caption.setWordWrap(True)
            row, column = divmod(index, 3)
            grid.addWidget(cell, 2 * row, column)
            grid.addWidget(caption, 2 * row + 1, column)
            self.cells.append(cell)
            self.cell_captions.append(caption)
        grid.setColumnStretch(3, 1)
        layout.addLayout(grid)
        self.plot = GuidanceNormsPlot()
        layout.addWidget(self.plot, 1)
        # Last: the images and the plot stay in view on small screens; this scrolls.
        self.explanation = QLabel(EXPLANATION)
        self.explanation.setWordWrap(True)
        self.explanation.setStyleSheet("color: #444")
        layout.addWidget(self.explanation)
        self.frame: GuidanceFrame | None = None

        session.result_changed.connect(lambda _result: self.refresh(new_result=True))
        self.slider.valueChanged.connect(lambda _value: self.refresh())
        result_panel.thumbnails.currentRowChanged.connect(lambda _row: self.refresh(True))

    def refresh(self, new_result: bool = False) -> None:
        result = self.session.result
        record = getattr(result, "guidance", None)
        if record is None:
            self.plot.set_norms(None)
            self.plot.set_step(None)
            self._show(None, no_guidance_text(result))
            return
        index = self.session.image_index
        per_batch = max(1, int(result.parameters.get("batch_size", 1)))
        batch, within = divmod(index, per_batch)
        if new_result:
            norms = record.norms[batch][:, :, within] if batch < len(record.norms) else None
            self.plot.set_norms(norms, record.guided_steps)
        position = self.slider.value()
        frame = guidance_frame(result, index, position)
        self.plot.set_step(result.step_number(position))
        self._show(frame, self._caption(result, record, frame, position))

    def _caption(self, result, record, frame, position: int) -> str:
        negative = (f"negative prompt “{record.negative_prompt}”" if record.negative_prompt
                    else "the empty prompt")
        text = f"g = {record.guidance_scale:g}; the unconditional branch is {negative}"
        if record.guided_steps < record.model_calls:
            text += (f"; guidance cut off after model call {record.guided_steps} of "
                     f"{record.model_calls}")
        if record.rescale:
            text += f"; rescale φ = {record.rescale:g}"
        if frame is None:
            return (f"{text}. Step {result.step_number(position)}: branches not recorded"
                    + (f" ({record.note})" if record.note else "") + ".")
        where = f"Model call {frame.step}/{record.model_calls}, t = {frame.timestep:.0f}"
        if frame.unconditional is None:
            where += " · after the cut-off: the prompt's branch alone"
        return f"{where}. {text}." + (f" {record.note}" if record.note else "")

    def _show(self, frame: GuidanceFrame | None, caption: str) -> None:
        self.frame = frame
        self.caption.setText(caption)
        parts = (None,) * 6 if frame is None else (
            frame.unconditional, frame.conditional, frame.difference, frame.pred_unconditional,
            frame.pred_conditional, frame.pred_guided)
        for index, (cell, latents) in enumerate(zip(self.cells, parts, strict=True)):
            caption = self.NAMES[index]
            if latents is None:
                cell.clear()
                cell.setText("" if frame is None else "not recorded" if index == 5 else "not run")
                self.cell_captions[index].setText(caption)
                continue
            if index == 2:
                image, bound = signed_rgb(latents, result_family(self.session.result))
                caption += f" (±{bound:.2g})"
            else:
                image = latents_to_rgb(latents, result_family(self.session.result))
            cell.setPixmap(pixmap_from_array(image).scaled(
                CELL, CELL, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation))
            self.cell_captions[index].setText(caption)
