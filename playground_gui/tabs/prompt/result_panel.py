"""The Prompt tab's middle column: the image (live preview, result, scrubbed step), the step
slider with what it shows, and the thumbnails of a batch.

It shows what the session holds: the result and its recorded steps, a quick latent→RGB sketch
of a step at once and the VAE's decode of it when the session has it.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.stable_diffusion.previews import latents_to_rgb, result_family
from playground_gui.tabs.prompt.hires_panel import hires_position, hires_step_text
from playground_gui.tabs.prompt.image_view import PromptImageView
from playground_gui.tabs.prompt.sdxl_panel import RefinerMarker, refiner_step_text
from playground_gui.tabs.prompt.steps import device_phrase, step_position, steps_phrase
from playground_gui.widgets.images import pixmap_from_array

SCRUB_KINDS = {"x0": "predicted clean image x̂₀", "xt": "noisy latents x_t"}


class ResultPanel(QWidget):
    def __init__(self, session, latent_view, parent=None):
        super().__init__(parent)
        self.session = session
        self.latent_view = latent_view  # on the Latents page: x_t of the step shown
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.image_view = PromptImageView("No image yet.\nLive previews appear here during a run.")
        layout.addWidget(self.image_view, 1)
        # The slider has the column's whole width to itself (at 1280×720 it shared a row with
        # the combo box and shrank to its handle); what it shows sits on the row below.
        self.step_slider = QSlider(Qt.Orientation.Horizontal)
        self.step_slider.setEnabled(False)
        self.step_slider.setMinimumWidth(160)
        self.step_slider.setToolTip("Scrub through the recorded steps of the finished run")
        layout.addWidget(self.step_slider)
        self.refiner_marker = RefinerMarker(self.step_slider, session)  # SDXL refiner's steps
        layout.addWidget(self.refiner_marker)
        scrub = QHBoxLayout()
        self.step_label = QLabel("Step: no run yet")
        self.step_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        scrub.addWidget(self.step_label, 1)
        self.scrub_kind = QComboBox()
        for key, label in SCRUB_KINDS.items():
            self.scrub_kind.addItem(label, key)
        self.scrub_kind.setToolTip("x̂₀: what the model thinks the final image is at this step. "
                                   "x_t: the actual noisy latents at this step")
        scrub.addWidget(self.scrub_kind)
        layout.addLayout(scrub)
        self.thumbnails = QListWidget()
        self.thumbnails.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbnails.setFlow(QListWidget.Flow.LeftToRight)
        self.thumbnails.setWrapping(False)
        self.thumbnails.setIconSize(QSize(64, 64))
        self.thumbnails.setFixedHeight(96)
        self.thumbnails.setVisible(False)
        layout.addWidget(self.thumbnails)

        self.step_slider.valueChanged.connect(self.show_step)
        self.scrub_kind.currentIndexChanged.connect(lambda _: self.show_step(self.step_slider.value()))
        self.thumbnails.currentRowChanged.connect(self.select_image)
        session.run_step.connect(self.show_preview)
        session.result_changed.connect(self.show_result)
        session.frame_decoded.connect(self._on_frame_decoded)

    def show_preview(self, preview, position: str) -> None:
        """A live preview during the run."""
        decoded = preview.preview.shape[0] > preview.latents.shape[-2]  # TAESD: full size
        self.image_view.set_image(
            preview.preview,
            f"live preview · image batch {preview.image_index + 1} · {position} · "
            f"t = {preview.timestep:.0f} · x̂₀ through "
            + ("the preview decoder (TAESD)" if decoded else
               "a linear latent→RGB map (approximate colours)"))
        self.latent_view.set_latents(preview.latents, f"x_t after step {preview.step}")

    def show_result(self, result) -> None:
        self.latent_view.family = result_family(result)
        with QSignalBlocker(self.thumbnails):
            self.thumbnails.clear()
            for index, image in enumerate(result.images):
                item = QListWidgetItem(QIcon(pixmap_from_array(image)), f"#{index + 1}")
                item.setToolTip(f"seed {result.seeds[index]}")
                self.thumbnails.addItem(item)
            self.thumbnails.setVisible(len(result.images) > 1)
            self.thumbnails.setCurrentRow(0)
        self.select_image(0)

    def select_image(self, index: int) -> None:
        result = self.session.result
        if result is None or not 0 <= index < len(result.images):
            return
        self.session.image_index = index
        steps = self.session.recorded_steps(index)
        with QSignalBlocker(self.step_slider):
            self.step_slider.setRange(1, max(1, steps))
            self.step_slider.setValue(max(1, steps))
        self.step_slider.setEnabled(steps > 1)
        self._show_step_label(steps)
        self.image_view.set_image(result.images[index], self.caption(index, steps, final=True))
        recorded = self.session.recorded(index, steps, "xt")
        if recorded is not None:
            self.latent_view.set_latents(recorded, f"x_t after step {result.step_number(steps)}")

    def caption(self, index: int, step: int, final: bool = False, note: str = "") -> str:
        """What the image shows: seed, size, which step, and the device the run used."""
        result = self.session.result
        height, width = result.images[index].shape[:2] if index < len(result.images) else (
            result.parameters["height"], result.parameters["width"])
        head = f"seed {result.seeds[index]} · {width}×{height}"
        if final and result.cancelled:
            text = f"{head} · cancelled after {step} model call(s) of {steps_phrase(result)}"
        elif final:
            text = f"{head} · final image after {steps_phrase(result)}"
        else:
            hires_at = hires_position(result, step)  # the hires fix's second pass, or None
            t = hires_at[1] if hires_at else result.timesteps[step - 1] \
                if step - 1 < len(result.timesteps) else float("nan")
            where = hires_step_text(result, step) or step_position(result, step)
            text = f"{head} · {where} · t = {t:.0f} · {note}"
        device = device_phrase(result)
        return f"{text} · {device}" if device else text

    def _show_step_label(self, step: int) -> None:
        result = self.session.result
        text = (hires_step_text(result, step) or step_position(result, step)) \
            + refiner_step_text(result, step)
        # "Step 3/25" or "Model call 3/26 of 25 steps": already says how many steps
        self.step_label.setText(text[0].upper() + text[1:])

    def show_step(self, step: int) -> None:
        """Show a recorded step: the cached decode, else the cheap sketch while the VAE decodes."""
        session = self.session
        if session.result is None:
            return
        self._show_step_label(step)
        kind = self.scrub_kind.currentData()
        index = session.image_index
        if (index, step, kind) in session.frames:
            self.image_view.set_image(session.frames[index, step, kind], self.caption(
                index, step, note=f"{SCRUB_KINDS[kind]}, decoded by the VAE"))
            return
        latents = session.recorded(index, step, kind)
        if latents is None:
            return
        where = hires_step_text(session.result, step) or f"step {session.result.step_number(step)}"
        self.latent_view.set_latents(latents, f"{'x̂₀' if kind == 'x0' else 'x_t'} at {where}")
        self.image_view.set_image(latents_to_rgb(latents, result_family(session.result)), self.caption(
            index, step, note=f"{SCRUB_KINDS[kind]}, quick sketch (decoding…)"))
        session.want_frame((index, step, kind))

    def _on_frame_decoded(self, key: tuple) -> None:
        index, step, kind = key
        if (index, kind) == (self.session.image_index, self.scrub_kind.currentData()) and \
                step == self.step_slider.value():
            self.show_step(step)
