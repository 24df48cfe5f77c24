"""The "Prompt" tab: Stable Diffusion txt2img / img2img / inpaint / outpaint, every step kept.

Live previews come from the predicted clean latent x̂₀ through a cheap linear map; after the run
the step slider scrubs through the recorded steps, decoding each with the VAE on demand (in the
engine thread) and caching the frames. The widgets are built by ``settings_panel``,
``result_panel`` and ``pages``; the state and the jobs are the ``PromptSession``'s; the request
↔ controls table is ``binding``. This module connects them and shows what the session says.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QSplitter, QVBoxLayout, QWidget

from engine.png.record import KIND_STABLE_DIFFUSION
from engine.png.saving import save_image_as
from engine.stable_diffusion.denoiser_types import T5_TOKENS
from engine.stable_diffusion.prompt_syntax import split_extra_networks
from engine.stable_diffusion.types import MAX_SEED, MODES, GenerationRequest
from playground_gui.binding import is_integer
from playground_gui.formatting import format_progress
from playground_gui.preferences import Preferences
from playground_gui.tabs.prompt import binding
from playground_gui.tabs.prompt.decoders_view import add_decoders_page
from playground_gui.tabs.prompt.family_controls import apply_family
from playground_gui.tabs.prompt.guidance_view import add_guidance_page
from playground_gui.tabs.prompt.pages import INPUT_PAGE, LORA_PAGE, build_pages
from playground_gui.tabs.prompt.result_panel import ResultPanel
from playground_gui.tabs.prompt.sdxl_panel import show_for_model
from playground_gui.tabs.prompt.session import PromptSession, comparison_values, draw_seed
from playground_gui.tabs.prompt.settings_panel import FIRST_STATUS, build_settings
from playground_gui.tabs.prompt.walk_view import add_walk_page
from playground_gui.tabs.prompt.xyz_view import add_xyz_page
from playground_gui.widgets.save_bar import SaveBar, WriteJob


class PromptTab(QWidget):
    title = "Prompt"
    restores_kinds = {KIND_STABLE_DIFFUSION}  # ours, and other tools' A1111 parameters

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context
        self.engine = context.engine
        self._loading_job = None
        self.engine.jobs_changed.connect(self._show_loading)
        self.session = PromptSession(context.engine, self)
        self.preferences = Preferences(context.window.settings)
        self.loaded_family: str | None = None  # the loaded model's family name (families.py)
        self.size_chosen = False  # the user (or a restored PNG) set the size: a model keeps it
        self._sizing = False  # set_size at work: its changes are not the user's
        self._saving_as: list[WriteJob] = []  # "Save as…" files being written

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(build_settings(self))
        pages = build_pages(self)
        add_walk_page(self)  # between two seeds and/or prompts
        add_xyz_page(self)  # any parameter on up to three axes
        self.result_panel = ResultPanel(self.session, self.latent_view)
        for name in ("image_view", "step_slider", "step_label", "scrub_kind", "thumbnails"):
            setattr(self, name, getattr(self.result_panel, name))
        add_guidance_page(self)
        add_decoders_page(self)  # latent→RGB, TAESD and the VAE at the step shown
        splitter.addWidget(self.result_panel)
        splitter.addWidget(pages)
        # The image gets the space; the pages scroll inside their column rather than widen it.
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([420, 560, 440])
        # Saving runs along the whole tab: the result column is too narrow for five buttons.
        self.save_bar = SaveBar(context.window.settings, KIND_STABLE_DIFFUSION,
                                self.session.shown_save_items, self.session.all_save_items)
        self.save_bar.save_button.setToolTip("Save the image shown, with its parameters, to the "
                                             "output folder (see the Gallery tab)")
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.save_bar)

        self._connect_controls()
        self._connect_session()
        last_model = self.preferences.last_model(KIND_STABLE_DIFFUSION)
        if last_model:
            self.picker.set_location(last_model)
        context.window.engine_ready.connect(self._on_engine_ready)
        self._on_mode_changed()
        self._update_mask_info()

    def _connect_controls(self) -> None:
        self.prompt_edit.textChanged.connect(self._tokens_wanted)
        self.picker.changed.connect(self._tokens_wanted)
        self.steps_spin.valueChanged.connect(self._tokens_wanted)  # [a:b:0.5] depends on them
        self.picker.load_requested.connect(self.load_model)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        for spin in (self.width_spin, self.height_spin):
            spin.valueChanged.connect(self._on_size_edited)
        self.reuse_seed_button.clicked.connect(self.reuse_seed)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button.clicked.connect(self._save_dialog)
        self.open_image_button.clicked.connect(self._open_image_dialog)
        self.use_result_button.clicked.connect(lambda: self.set_init_image(self.shown_image()))
        self.painter.mask_changed.connect(self._update_mask_info)
        self.round_trip_button.clicked.connect(self.round_trip)
        self.compare_button.clicked.connect(self.run_comparison)
        self.lora_panel.delta_requested.connect(self.show_lora_delta)
        self._connect_attention()

    def _connect_attention(self) -> None:
        """The attention view follows the result, the step slider and the image shown; the
        token view's chips pick its tokens (attention_view.py)."""
        view = self.attention_view
        # After the result panel's own slots, which set the slider without signals.
        self.session.result_changed.connect(
            lambda result: view.set_result(result, self.step_slider.value()))
        self.step_slider.valueChanged.connect(view.set_step)
        self.thumbnails.currentRowChanged.connect(
            lambda row: view.set_image_index(row, self.step_slider.value()))
        self.token_view.token_clicked.connect(lambda index: view.toggle_token(
            index, self.token_view.info.tokens if self.token_view.info is not None else None))
        view.selection_changed.connect(self.token_view.set_selected)
        view.frame_for = lambda index, position: self.session.frames.get((index, position, "x0"))
        self.session.frame_decoded.connect(lambda _key: view.refresh())

    def _connect_session(self) -> None:
        session = self.session
        session.status.connect(self.set_status)
        session.run_progress.connect(
            lambda update: self.set_status(f"{update.message or 'working'} · {format_progress(update)}"))
        session.result_changed.connect(self._show_result)
        session.run_succeeded.connect(lambda _result: self.save_bar.images_ready())  # auto-save
        session.run_finished.connect(self._on_finished)
        session.tokens_ready.connect(self._on_tokens)
        session.tokens_failed.connect(self.token_view.set_message)
        session.model_loaded.connect(self._on_model_loaded)
        session.model_failed.connect(lambda message: self.picker.set_info(message, error=True))
        session.model_load_cancelled.connect(lambda: self.picker.set_info(
            "Loading was cancelled: the model loads with the first image."))
        session.cached_models.connect(self.picker.set_cached_models)
        session.round_trip_done.connect(self._on_round_trip)
        session.lora_delta_done.connect(self.lora_view.set_result)
        session.comparison_done.connect(lambda result: self.compare_view.set_image(
            result.grid, f"seed {result.seed} · varying {self.compare_vary.currentText()}"))

    # -- what the session holds ------------------------------------------------------------
    @property
    def result(self):
        return self.session.result

    @property
    def result_request(self) -> GenerationRequest | None:
        return self.session.result_request

    @property
    def frames(self) -> dict:
        return self.session.frames

    @property
    def image_index(self) -> int:
        return self.session.image_index

    @property
    def init_image(self) -> np.ndarray | None:
        return self.session.init_image

    @init_image.setter
    def init_image(self, image: np.ndarray | None) -> None:
        self.session.init_image = image

    def shown_image(self) -> np.ndarray | None:
        return self.session.shown_image()

    # -- building requests -----------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    def device(self) -> str | None:
        info = self.context.window.engine_info
        return info.device if info is not None else None

    def build_request(self, seed: int | None) -> GenerationRequest:
        mode = self.mode
        mask = None
        if mode == "inpaint":
            mask = self.painter.mask()
            if mask is None or mask.max() == 0:
                raise ValueError("Paint the area to repaint on the input image first (Input & mask).")
        return GenerationRequest(
            **binding.request_fields(self), source=self.picker.source(),
            options=self.picker.options(self.device()),
            seed=int(seed) if seed is not None else None,
            init_image=self.init_image if mode != "txt2img" else None, mask=mask)

    def _seed_for_run(self) -> int:
        return draw_seed() if self.random_seed.isChecked() else self.seed_value()

    def seed_value(self) -> int:
        return int(round(self.seed_spin.value()))

    # -- generation ------------------------------------------------------------------------
    def generate(self):
        """Start a run; returns its JobHandle (None when the inputs are not valid)."""
        try:
            request = self.build_request(self._seed_for_run())
        except ValueError as exc:
            self.set_status(str(exc), error=True)
            if self.mode != "txt2img":
                self.pages.setCurrentIndex(INPUT_PAGE)
            return None
        if not self.size_chosen and request.mode == "txt2img":
            # The size shown is the app's guess until the model is loaded (512 before the
            # first run): the run takes the model's own (SDXL, SD 3, Flux: 1024).
            request = dataclasses.replace(request, native_size=True)
        job = self.session.generate(request)
        if job is None:
            return None
        self._remember_model()
        self.generate_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(True)
        self.step_slider.setEnabled(False)
        self.save_bar.run_started()  # "Saved 00012-…" was about the last run
        return job

    def cancel(self) -> None:
        if self.session.cancel():
            self.cancel_button.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _on_finished(self) -> None:
        self.generate_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(False)

    # -- the result ------------------------------------------------------------------------
    def _show_result(self, result) -> None:
        self.reuse_seed_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.save_bar.set_has_images(bool(result.images))
        if result.model_info is not None:
            # A first run may start before the model is known (it loads with the run): from
            # then on the size follows the model too, unless the user chose one.
            self._on_model_loaded(result.model_info)
        self.use_result_button.setEnabled(True)
        if result.tokens is not None:
            self.token_view.set_info(result.tokens)
            self._show_token_count(result.tokens)

    # -- model, tokens ---------------------------------------------------------------------
    def _on_engine_ready(self, info) -> None:
        self.session.list_cached_models()
        self.request_tokens()

    def load_model(self):
        self._remember_model()
        job = self.session.load_model(self.picker.source(), self.picker.options(self.device()))
        if job is None:
            return None
        self._loading_job = job
        self._show_loading()
        return job

    def model_used(self, info=None) -> None:
        """A walk or an X/Y/Z grid ran (and maybe loaded) the model: the model box says so, from
        the grid's ``ModelInfo`` or by asking the engine (the loaded model answers at once)."""
        if info is not None:
            self._on_model_loaded(info)
        else:
            self.load_model()

    def _show_loading(self) -> None:
        """What the model load waits for, kept true as the queue moves (jobs_changed)."""
        job = self._loading_job
        if job is None or job.done:
            return
        ahead = None if job.running else self.engine.waiting_behind(job)
        self.picker.set_info(f"Loading… (after {ahead.label})" if ahead is not None else "Loading…")

    def _on_model_loaded(self, info, adopt_size: bool = True) -> None:
        self.loaded_family = info.family.name if getattr(info, "family", None) else None
        if adopt_size and not self.size_chosen:
            self.set_size(info.default_size, info.default_size)
        self.picker.show_loaded(info, (self.width_spin.value(), self.height_spin.value()))
        apply_family(self, info)  # SD 3/Flux: their samplers and memory options (family_controls)
        show_for_model(self, info)  # the SDXL group (sdxl_panel.py)
        if self.status_label.text() == FIRST_STATUS:  # not stale; a run's report stays
            self.set_status(f"{info.label} is loaded: press Generate.")
        self.request_tokens()

    def set_size(self, width: int, height: int) -> None:
        """Set the size for the user (a model's native size): not counted as their choice. The
        spin boxes still signal, so what follows the size (the hires fix's output) follows."""
        self._sizing = True
        try:
            self.width_spin.setValue(width)
            self.height_spin.setValue(height)
        finally:
            self._sizing = False

    def _on_size_edited(self, _value) -> None:
        if not self._sizing:
            self.size_chosen = True

    def _tokens_wanted(self) -> None:
        self.session.tokens_wanted(self.model_prompt(), self.picker.source(),
                                   self.steps_spin.value())

    def request_tokens(self) -> None:
        self.session.request_tokens(self.model_prompt(), self.picker.source(),
                                    self.steps_spin.value())

    def model_prompt(self) -> str:
        """The prompt as the text encoder reads it: without <lora:…> tags."""
        return split_extra_networks(self.prompt_edit.toPlainText())[0]

    def show_lora_delta(self, lora):
        """What ``lora`` (a NetworkFile) changes in the model: the LoRA page."""
        self.pages.setCurrentIndex(LORA_PAGE)
        self.lora_view.caption.setText(f"Measuring {lora.name}…")
        return self.session.lora_delta(lora, self.picker.source(),
                                       self.picker.options(self.device()))

    def _on_tokens(self, info) -> None:
        if info is None:
            self.token_view.set_message("The tokens appear once the model's tokenizer is at hand: "
                                        "load the model (or pick one in the cache or on disk).")
            self.token_count.setText("")
            return
        self.token_view.set_info(info)
        self._show_token_count(info)

    def _show_token_count(self, info) -> None:
        t5_tokens = T5_TOKENS.get(self.loaded_family)
        if t5_tokens is not None:  # SD 3/Flux: T5 reads what CLIP cuts off
            self.token_count.setText(f"{info.count} tokens: CLIP reads {info.usable}, T5 up to "
                                     f"{t5_tokens}")
            self.token_count.setStyleSheet("color: #555")
            return
        if info.truncated_text:
            text = f"{info.count} / {info.usable} tokens — the rest is cut off (see Tokens)"
        elif info.chunks > 1:
            text = f"{info.count} tokens in {info.chunks} chunks of {info.usable}"
        else:
            text = f"{info.count} / {info.usable} tokens"
        self.token_count.setText(text)
        self.token_count.setStyleSheet("color: #b00020" if info.truncated_text else "color: #555")

    # -- round trip and comparison ---------------------------------------------------------
    def round_trip(self):
        image = self.init_image if self.init_image is not None else self.shown_image()
        if image is None:
            self.set_status("Open an input image or generate one first.", error=True)
            return None
        return self.session.round_trip(image, self.picker.source(),
                                       self.picker.options(self.device()))

    def _on_round_trip(self, result) -> None:
        h, w = result.original.shape[:2]
        self.round_trip_original.set_image(result.original, f"original {w}×{h} px")
        lh, lw = result.latents.shape[1:]
        self.round_trip_output.set_image(
            result.reconstruction, f"decoded from {result.latents.shape[0]}×{lw}×{lh} latents · "
            f"PSNR {result.psnr_db:.1f} dB")
        self.round_trip_latents.set_latents(result.latents, "the latents of this image")

    def run_comparison(self):
        vary = self.compare_vary.currentData()
        try:
            values = comparison_values(vary, self.compare_values.text())
            base = self.build_request(self._seed_for_run())
        except ValueError as exc:
            self.set_status(str(exc), error=True)
            return None
        return self.session.run_comparison(base, vary, values)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #b00020" if error else "")

    # -- seeds, saving, inputs -------------------------------------------------------------
    def reuse_seed(self) -> None:
        seed = self.session.shown_seed()
        if seed is not None:
            self.random_seed.setChecked(False)
            self.seed_spin.setValue(min(seed, MAX_SEED))

    def save_image(self, path: str) -> WriteJob:
        """Save the shown image to ``path`` (the file dialog has asked before replacing), on the
        save bar's writer thread; the status line says when it is written."""
        (item,) = self.session.shown_save_items()
        job = WriteJob(partial(save_image_as, path, item.image, item.parameters, item.request,
                               item.kind, overwrite=True), tag=path)
        self._saving_as.append(job)
        job.done.connect(self._on_saved_as)
        return job

    def _on_saved_as(self, job: WriteJob) -> None:
        self._saving_as = [each for each in self._saving_as if each is not job]
        if job.error is not None:
            self.context.window.show_error("Save failed", str(job.error))
        else:
            self.set_status(f"Saved {job.tag} (parameters inside the PNG)")

    def _save_dialog(self) -> None:
        seed = self.session.shown_seed()
        if seed is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save image", f"sd-{seed}.png",
                                              "PNG images (*.png)")
        if path:
            self.save_image(path)

    def set_init_image(self, image: np.ndarray | None) -> None:
        if image is None:
            return
        self.init_image = np.asarray(image, dtype=np.uint8)[..., :3].copy()
        self.painter.set_image(self.init_image)
        if self.mode == "txt2img":
            self.mode_combo.setCurrentIndex(list(MODES).index("img2img"))
        self._update_mask_info()

    def _open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an input image", "",
                                              "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        if path:
            self.open_image(path)

    def open_image(self, path: str) -> None:
        """Open an input image through the engine's loader: any Pillow mode, EXIF orientation
        honoured, Pillow's decompression-bomb limit turned into a sentence. The loader's
        largest working size (1024 px) is kept: the run resizes the input to its own size."""
        from engine.errors import UserFacingError
        from engine.images import MAX_WORKING_SIZE, load_image_file

        try:
            loaded = load_image_file(path, working_size=MAX_WORKING_SIZE)
        except UserFacingError as exc:
            self.set_status(str(exc), error=True)
            return
        self.set_init_image(loaded.pixels)

    def _update_mask_info(self) -> None:
        if self.init_image is None:
            self.mask_info.setText("No input image. img2img, inpaint and outpaint start from one.")
            return
        h, w = self.init_image.shape[:2]
        self.mask_info.setText(f"Input {w}×{h} px (resized to the chosen size) · mask covers "
                               f"{100 * self.painter.coverage():.0f}% · left button paints, right "
                               "button erases")

    def _on_mode_changed(self, *_) -> None:
        mode = self.mode
        for widget in (self.strength_spin, self.strength_label):
            widget.setVisible(mode in ("img2img", "inpaint"))
        for widget in [self.outpaint_label, *self.outpaint_spins]:
            widget.setVisible(mode == "outpaint")
        for widget in (self.feather_spin, self.feather_label, self.overlay_check):
            widget.setVisible(mode in ("inpaint", "outpaint"))
        if mode != "txt2img" and self.init_image is None:
            self.pages.setCurrentIndex(INPUT_PAGE)

    # -- remembering and restoring ---------------------------------------------------------
    def _remember_model(self) -> None:
        location = self.picker.source().location
        if location:
            self.preferences.set_last_model(KIND_STABLE_DIFFUSION, location)

    def restore_parameters(self, request: dict) -> bool:
        """Set every control from a saved image's record (ours), or from another tool's A1111
        parameters (``{"foreign_parameters": {...}}``). True when the controls now reproduce
        the image; otherwise the status line says what is missing."""
        notes = binding.restore(self, request)
        index = request.get("image_index", 0)
        batch = f" (it is image #{index + 1} of the batch)" if is_integer(index) and index > 0 else ""
        if notes:
            self.set_status(f"Restored{batch}, except: " + "; ".join(notes) + ".", error=True)
        else:
            self.set_status(f"Restored the parameters of the image{batch}: press Generate to "
                            "make it again.")
        return not notes

    def _restore_record(self, request: dict) -> list[str]:
        return binding.restore_record(self, request)
