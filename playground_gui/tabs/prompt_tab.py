"""The "Prompt" tab: Stable Diffusion txt2img / img2img / inpaint / outpaint, every step kept.

Live previews come from the predicted clean latent x̂₀ through a cheap linear map; after the run
the step slider scrubs through the recorded steps, decoding each with the VAE on demand (in the
engine thread) and caching the frames.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.png.a1111 import GenerationParameters
from engine.png.record import KIND_STABLE_DIFFUSION
from engine.png.saving import SaveError, save_image_as
from engine.stable_diffusion.parameters import save_items, scheduler_for_sampler
from engine.stable_diffusion.previews import latents_to_rgb
from engine.stable_diffusion.types import (
    MODES,
    SCHEDULER_NAMES,
    CachedModelsRequest,
    ComparisonGridRequest,
    DecodeLatentsRequest,
    GenerationRequest,
    LoadModelRequest,
    ModelSource,
    TokensRequest,
    VaeRoundTripRequest,
)
from playground_gui.preferences import Preferences
from playground_gui.widgets.control_column import scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.images import pixmap_from_array
from playground_gui.widgets.job_status import format_progress
from playground_gui.widgets.mask_painter import MaskPainter
from playground_gui.widgets.prompt_image_view import PromptImageView
from playground_gui.widgets.prompt_latent_view import PromptLatentView
from playground_gui.widgets.prompt_model_picker import PromptModelPicker
from playground_gui.widgets.prompt_token_view import PromptTokenView
from playground_gui.widgets.save_bar import SaveBar

MODE_LABELS = {"txt2img": "Text → image", "img2img": "Image → image", "inpaint": "Inpaint (mask)",
               "outpaint": "Outpaint (extend)"}
SCRUB_KINDS = {"x0": "predicted clean image x̂₀", "xt": "noisy latents x_t"}
MAX_SEED = 2**32 - 1  # the engine's (and A1111's) range
COMPARE_DEFAULTS = {"guidance_scale": "1, 3, 7.5, 12", "steps": "5, 10, 20, 30",
                    "scheduler": "DDIM, Euler ancestral, DPM-Solver++ 2M Karras, UniPC"}


def requested_steps(result) -> int:
    """Denoising steps the user asked for in one pipeline call (img2img and inpaint run
    strength × steps of them)."""
    parameters = result.parameters
    return requested_steps_of(int(parameters["steps"]), parameters.get("mode"),
                              float(parameters.get("strength", 1.0)))


def requested_steps_of(steps: int, mode: str | None, strength: float) -> int:
    if mode in ("img2img", "inpaint"):
        return max(1, min(int(steps * strength), steps))
    return steps


def model_calls(result) -> int:
    """UNet calls of one pipeline call (PNDM makes 26 for 25 steps), as the engine counted them."""
    return result.model_calls or requested_steps(result)


def steps_phrase(result) -> str:
    """"25 steps", or "25 steps (26 model calls)" when the scheduler calls the model more often."""
    steps, calls = requested_steps(result), model_calls(result)
    text = f"{steps} step{'s' if steps != 1 else ''}"
    return text if calls in (0, steps) else f"{text} ({calls} model calls)"


def step_position(result, step: int) -> str:
    """Where the slider stands: "step 3/25", or "model call 3/26 of 25 steps"."""
    steps, calls = requested_steps(result), model_calls(result)
    if calls in (0, steps):
        return f"step {step}/{steps}"
    return f"model call {step}/{calls} of {steps} steps"


class PromptTab(QWidget):
    title = "Prompt"
    restores_kinds = {KIND_STABLE_DIFFUSION}  # ours, and other tools' A1111 parameters

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.context = context
        self.engine = context.engine
        self.result = None  # GenerationResult of the run shown (complete or cancelled)
        self.result_request: GenerationRequest | None = None
        self.image_index = 0
        self.frames: dict[tuple, np.ndarray] = {}  # (image, step, kind) -> decoded frame
        self.init_image: np.ndarray | None = None
        self.last_seed: int | None = None
        self._job = None
        self._decode_job = None
        self._wanted_frame: tuple | None = None
        self._token_job = None
        self._tokens_stale = False
        self._setting_size = False
        self._withdrawn = False  # the run shown was cancelled before its turn
        self.size_chosen = False  # the user (or a restored PNG) set the size: a model keeps it
        self.preferences = Preferences(context.window.settings)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_result_view())
        splitter.addWidget(self._build_pages())
        # The image gets the space; the pages scroll inside their column rather than widen it.
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([420, 560, 440])
        # Saving runs along the whole tab: the result column is too narrow for five buttons.
        self.save_bar = SaveBar(context.window.settings, KIND_STABLE_DIFFUSION,
                                self._shown_save_items, self._all_save_items)
        self.save_bar.save_button.setToolTip("Save the image shown, with its parameters, to the "
                                             "output folder (see the Gallery tab)")
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.save_bar)

        self._token_timer = QTimer(self, singleShot=True, interval=400)
        self._token_timer.timeout.connect(self.request_tokens)
        self.prompt_edit.textChanged.connect(self._token_timer.start)
        self.picker.changed.connect(self._token_timer.start)
        self.picker.load_requested.connect(self.load_model)
        last_model = self.preferences.last_model(KIND_STABLE_DIFFUSION)
        if last_model:
            self.picker.set_location(last_model)
        context.window.engine_ready.connect(self._on_engine_ready)
        self._on_mode_changed()

    # -- layout ----------------------------------------------------------------------------
    def _build_controls(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        self.picker = PromptModelPicker()
        column.addWidget(self.picker)

        prompt_box = QGroupBox("Prompt")
        prompt_layout = QVBoxLayout(prompt_box)
        self.prompt_edit = QPlainTextEdit("a painting of a red cat in the snow, soft light")
        self.prompt_edit.setFixedHeight(70)
        self.prompt_edit.setToolTip("What the image should show. Only the first 75 tokens count.")
        self.token_count = QLabel()
        self.token_count.setStyleSheet("color: #555")
        self.negative_edit = QPlainTextEdit("blurry, low quality")
        self.negative_edit.setFixedHeight(44)
        self.negative_edit.setToolTip("What to steer away from: classifier-free guidance pushes "
                                      "away from this prompt instead of from the empty prompt")
        prompt_layout.addWidget(self.prompt_edit)
        prompt_layout.addWidget(self.token_count)
        prompt_layout.addWidget(QLabel("Negative prompt"))
        prompt_layout.addWidget(self.negative_edit)
        column.addWidget(prompt_box)

        settings = QGroupBox("Sampling")
        form = QFormLayout(settings)
        self.mode_combo = QComboBox()
        for mode in MODES:
            self.mode_combo.addItem(MODE_LABELS[mode], mode)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        form.addRow("Mode", self.mode_combo)
        self.steps_spin = QSpinBox(minimum=1, maximum=150, value=25)  # as in AUTOMATIC1111
        self.steps_spin.setToolTip("Denoising steps; img2img/inpaint run strength × steps of them")
        form.addRow("Steps", self.steps_spin)
        self.guidance_spin = QDoubleSpinBox(minimum=0.0, maximum=30.0, value=7.5, singleStep=0.5)
        self.guidance_spin.setToolTip("Classifier-free guidance scale s: ε = ε(∅) + s·(ε(prompt) − ε(∅)). "
                                      "1 = no guidance; 5–9 is typical; LCM/Turbo models want 0–2")
        form.addRow("Guidance", self.guidance_spin)
        seed_row = QHBoxLayout()
        # A QSpinBox stops at 2**31 − 1; a whole-number double spin box holds every seed
        # (2**32 − 1 is exact in a double), so any saved image can be restored.
        self.seed_spin = QDoubleSpinBox(minimum=0, maximum=MAX_SEED, value=1234, decimals=0)
        self.random_seed = QCheckBox("random", checked=True)
        self.random_seed.setToolTip("Draw a new seed for every run (it is shown with the result)")
        self.random_seed.toggled.connect(lambda on: self.seed_spin.setEnabled(not on))
        self.seed_spin.setEnabled(False)
        self.reuse_seed_button = QPushButton("Reuse last")
        self.reuse_seed_button.setToolTip("Fix the seed of the last image, to vary one setting at a time")
        self.reuse_seed_button.setEnabled(False)
        self.reuse_seed_button.clicked.connect(self.reuse_seed)
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.random_seed)
        seed_row.addWidget(self.reuse_seed_button)
        form.addRow("Seed", seed_row)
        size_row = QHBoxLayout()
        self.width_spin = QSpinBox(minimum=64, maximum=2048, value=512, singleStep=8, suffix=" px")
        self.height_spin = QSpinBox(minimum=64, maximum=2048, value=512, singleStep=8, suffix=" px")
        for spin in (self.width_spin, self.height_spin):
            spin.setToolTip("Multiples of 8 (the VAE shrinks the image 8× per side into latents); "
                            "SD 1.x was trained at 512, SD 2 base at 512, SDXL at 1024")
            spin.editingFinished.connect(lambda s=spin: s.setValue(round(s.value() / 8) * 8))
            spin.valueChanged.connect(self._on_size_edited)
        size_row.addWidget(self.width_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin)
        form.addRow("Size", size_row)
        batch_row = QHBoxLayout()
        self.batch_size_spin = QSpinBox(minimum=1, maximum=8, value=1, prefix="size ")
        self.batch_size_spin.setToolTip("Images computed together in one pass (more memory)")
        self.batch_count_spin = QSpinBox(minimum=1, maximum=16, value=1, prefix="count ")
        self.batch_count_spin.setToolTip("Passes one after the other (seed + 1 for every image)")
        batch_row.addWidget(self.batch_size_spin)
        batch_row.addWidget(self.batch_count_spin)
        form.addRow("Batch", batch_row)
        self.scheduler_combo = QComboBox()
        self.scheduler_combo.addItems(list(SCHEDULER_NAMES))
        self.scheduler_combo.setToolTip("The sampler that turns noise predictions into steps; "
                                        "“default” is the model's own")
        form.addRow("Scheduler", self.scheduler_combo)
        self.strength_spin = QDoubleSpinBox(minimum=0.05, maximum=1.0, value=0.75, singleStep=0.05)
        self.strength_spin.setToolTip("How far the input is pushed into noise before denoising: "
                                      "0.3 keeps the composition, 1.0 keeps almost nothing")
        self.strength_label = QLabel("Strength")
        form.addRow(self.strength_label, self.strength_spin)
        outpaint_row = QHBoxLayout()
        self.outpaint_spins = []
        for name in ("L", "T", "R", "B"):
            spin = QSpinBox(minimum=0, maximum=1024, singleStep=8, value=64 if name in "LR" else 0,
                            prefix=f"{name} ")
            spin.setToolTip("Pixels to add on this side (multiple of 8)")
            spin.editingFinished.connect(lambda s=spin: s.setValue(round(s.value() / 8) * 8))
            self.outpaint_spins.append(spin)
            outpaint_row.addWidget(spin)
        self.outpaint_label = QLabel("Extend by")
        form.addRow(self.outpaint_label, outpaint_row)
        self.feather_spin = QSpinBox(minimum=0, maximum=64, value=4, suffix=" px")
        self.feather_spin.setToolTip("Blur the mask edge so the repainted area blends in")
        self.feather_label = QLabel("Mask feather")
        form.addRow(self.feather_label, self.feather_spin)
        self.overlay_check = QCheckBox("Keep the input's pixels outside the mask")
        self.overlay_check.setChecked(True)
        self.overlay_check.setToolTip(
            "After decoding, paste the input's own pixels back outside the (feathered) mask, as "
            "AUTOMATIC1111 does: the VAE's round trip would otherwise soften or shift them. "
            "Untick to see the model's whole decoded image.")
        form.addRow("", self.overlay_check)
        column.addWidget(settings)

        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setStyleSheet("font-weight: bold; padding: 6px")
        self.generate_button.setShortcut("Ctrl+Return")
        self.generate_button.setToolTip("Ctrl+Enter")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop after the current step; what exists is kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button = QPushButton("Save as…")
        self.save_button.setEnabled(False)
        self.save_button.setToolTip("Save the shown image under a name and folder of your choice, "
                                    "with its parameters in the PNG (the save bar under the image "
                                    "saves to the output folder)")
        self.save_button.clicked.connect(self._save_dialog)
        for button in (self.generate_button, self.cancel_button, self.save_button):
            buttons.addWidget(button)
        self.status_label = QLabel("Choose a model and press Generate. The model loads with the "
                                   "first image.")
        self.status_label.setWordWrap(True)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # Three lines whatever the message: a longer status never moves the buttons above.
        self.status_label.setFixedHeight(3 * self.status_label.fontMetrics().lineSpacing() + 4)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(ExplanationPanel("prompt.html"))
        column.addStretch(1)

        scroll = scrolling_column(panel, 400, 480)
        # The settings scroll; Generate, Cancel and the status stay in view below them.
        container = QWidget()
        container.setMinimumWidth(400)
        container.setMaximumWidth(480)
        outer = QVBoxLayout(container)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)
        outer.addWidget(self.status_label)
        return container

    def _build_result_view(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.image_view = PromptImageView("No image yet.\nLive previews appear here during a run.")
        layout.addWidget(self.image_view, 1)
        # The slider has the column's whole width to itself (at 1280×720 it shared a row with
        # the combo box and shrank to its handle); what it shows sits on the row below.
        self.step_slider = QSlider(Qt.Orientation.Horizontal)
        self.step_slider.setEnabled(False)
        self.step_slider.setMinimumWidth(160)
        self.step_slider.setToolTip("Scrub through the recorded steps of the finished run")
        self.step_slider.valueChanged.connect(self.show_step)
        layout.addWidget(self.step_slider)
        scrub = QHBoxLayout()
        self.step_label = QLabel("Step: no run yet")
        self.step_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        scrub.addWidget(self.step_label, 1)
        self.scrub_kind = QComboBox()
        for key, label in SCRUB_KINDS.items():
            self.scrub_kind.addItem(label, key)
        self.scrub_kind.setToolTip("x̂₀: what the model thinks the final image is at this step. "
                                   "x_t: the actual noisy latents at this step")
        self.scrub_kind.currentIndexChanged.connect(lambda _: self.show_step(self.step_slider.value()))
        scrub.addWidget(self.scrub_kind)
        layout.addLayout(scrub)
        self.thumbnails = QListWidget()
        self.thumbnails.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbnails.setFlow(QListWidget.Flow.LeftToRight)
        self.thumbnails.setWrapping(False)
        self.thumbnails.setIconSize(QSize(64, 64))
        self.thumbnails.setFixedHeight(96)
        self.thumbnails.setVisible(False)
        self.thumbnails.currentRowChanged.connect(self.select_image)
        layout.addWidget(self.thumbnails)
        return box

    def _build_pages(self) -> QWidget:
        self.pages = QTabWidget()
        self.token_view = PromptTokenView()
        self.latent_view = PromptLatentView()
        # Each page scrolls inside the column: what a page shows after a run (latents, tokens)
        # never widens the column and squeezes the image.
        for page, title in ((self._build_input_page(), "Input && mask"),
                            (self.token_view, "Tokens"), (self.latent_view, "Latents"),
                            (self._build_round_trip_page(), "VAE round trip"),
                            (self._build_compare_page(), "Compare")):
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(page)
            self.pages.addTab(scroll, title)
        self.pages.setMinimumWidth(320)
        return self.pages

    def _build_input_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        open_button = QPushButton("Open image…")
        open_button.clicked.connect(self._open_image_dialog)
        self.use_result_button = QPushButton("Use shown result")
        self.use_result_button.setEnabled(False)
        self.use_result_button.clicked.connect(lambda: self.set_init_image(self.shown_image()))
        row.addWidget(open_button)
        row.addWidget(self.use_result_button)
        row.addStretch(1)
        layout.addLayout(row)
        tools = QHBoxLayout()
        self.brush_spin = QSpinBox(minimum=1, maximum=512, value=24, prefix="brush ", suffix=" px")
        self.brush_spin.valueChanged.connect(lambda v: setattr(self.painter, "brush_size", v))
        self.eraser_check = QCheckBox("Eraser")
        self.eraser_check.toggled.connect(lambda on: setattr(self.painter, "erasing", on))
        invert = QPushButton("Invert")
        clear = QPushButton("Clear")
        tools.addWidget(self.brush_spin)
        tools.addWidget(self.eraser_check)
        tools.addWidget(invert)
        tools.addWidget(clear)
        tools.addStretch(1)
        layout.addLayout(tools)
        self.painter = MaskPainter()
        invert.clicked.connect(self.painter.invert)
        clear.clicked.connect(self.painter.clear)
        self.mask_info = QLabel()
        self.mask_info.setWordWrap(True)
        self.painter.mask_changed.connect(self._update_mask_info)
        layout.addWidget(self.painter, 1)
        layout.addWidget(self.mask_info)
        self._update_mask_info()
        return page

    def _build_round_trip_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        intro = QLabel("Encode an image into latents and decode it back: what survives is what "
                       "the autoencoder keeps; the diffusion model only ever sees the latents.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.round_trip_button = QPushButton("Round-trip the input image (or the shown result)")
        self.round_trip_button.clicked.connect(self.round_trip)
        layout.addWidget(self.round_trip_button)
        pair = QHBoxLayout()
        self.round_trip_original = PromptImageView("original")
        self.round_trip_output = PromptImageView("after encode → decode")
        pair.addWidget(self.round_trip_original)
        pair.addWidget(self.round_trip_output)
        layout.addLayout(pair, 1)
        self.round_trip_latents = PromptLatentView(cell=72)
        layout.addWidget(self.round_trip_latents)
        return page

    def _build_compare_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.compare_vary = QComboBox()
        self.compare_vary.addItem("guidance scale", "guidance_scale")
        self.compare_vary.addItem("steps", "steps")
        self.compare_vary.addItem("scheduler", "scheduler")
        self.compare_values = QLineEdit(COMPARE_DEFAULTS["guidance_scale"])
        self.compare_vary.currentIndexChanged.connect(
            lambda _: self.compare_values.setText(COMPARE_DEFAULTS[self.compare_vary.currentData()]))
        self.compare_button = QPushButton("Run grid")
        self.compare_button.clicked.connect(self.run_comparison)
        row.addWidget(QLabel("Vary"))
        row.addWidget(self.compare_vary)
        row.addWidget(self.compare_values, 1)
        row.addWidget(self.compare_button)
        layout.addLayout(row)
        hint = QLabel("Same prompt, seed and other settings for every image (the seed field, or a "
                      "random one shown in the caption).")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555")
        layout.addWidget(hint)
        self.compare_view = PromptImageView("The labelled grid appears here.")
        layout.addWidget(self.compare_view, 1)
        return page

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
            prompt=self.prompt_edit.toPlainText().strip(),
            negative_prompt=self.negative_edit.toPlainText().strip(),
            source=self.picker.source(), options=self.picker.options(self.device()),
            mode=mode, steps=self.steps_spin.value(), guidance_scale=self.guidance_spin.value(),
            seed=int(seed) if seed is not None else None,
            width=self.width_spin.value(), height=self.height_spin.value(),
            batch_size=self.batch_size_spin.value(), batch_count=self.batch_count_spin.value(),
            scheduler=self.scheduler_combo.currentText(),
            init_image=self.init_image if mode != "txt2img" else None,
            strength=self.strength_spin.value(), mask=mask, mask_feather=self.feather_spin.value(),
            overlay=self.overlay_check.isChecked(),
            outpaint=tuple(spin.value() for spin in self.outpaint_spins) if mode == "outpaint"
            else (0, 0, 0, 0),
        )

    def _seed_for_run(self) -> int:
        return random.randint(0, MAX_SEED) if self.random_seed.isChecked() else self.seed_value()

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
                self.pages.setCurrentIndex(0)
            return None
        job = self.engine.submit(request, "Generating")
        self._remember_model()
        self._job = job
        self.result_request = request
        self.generate_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(True)
        self.step_slider.setEnabled(False)
        self.save_bar.run_started()  # "Saved 00012-…" was about the last run
        self._withdrawn = False
        ahead = self.engine.waiting_behind(job)
        if ahead is not None:
            self.set_status(f"Seed {request.seed}: waiting for {ahead.label} to finish (one job "
                            "runs at a time; Cancel withdraws this run).")
        else:
            self._on_started(request.seed)
        job.started.connect(lambda seed=request.seed: self._on_started(seed))
        job.progress.connect(self._on_progress)
        job.step.connect(self._on_step)
        job.succeeded.connect(self._on_result)
        job.cancelled.connect(self._on_cancelled)
        job.failed.connect(lambda message: self.set_status(message, error=True))
        job.finished.connect(self._on_finished)
        return job

    def _on_started(self, seed) -> None:
        self.set_status(f"Seed {seed}: starting… (the first run loads the model)")

    def cancel(self) -> None:
        if self._job is not None and not self._job.cancelling:
            waiting = self._withdrawn = self._job.waiting
            self._job.cancel()
            self.cancel_button.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
            self.set_status("Cancelling… (it had not started)" if waiting else
                            "Cancelling… (the model stops within its current step)")

    def _on_progress(self, update) -> None:
        self.set_status(f"{update.message or 'working'} · {format_progress(update)}")

    def _on_step(self, preview) -> None:
        request = self._job.request if self._job is not None else self.result_request
        steps = preview.total_steps
        if request is not None:
            steps = requested_steps_of(request.steps, request.mode, request.strength)
        position = (f"step {preview.step}/{steps}" if steps == preview.total_steps else
                    f"model call {preview.step}/{preview.total_steps} of {steps} steps")
        self.image_view.set_image(
            preview.preview,
            f"live preview · image batch {preview.image_index + 1} · {position} · "
            f"t = {preview.timestep:.0f} · x̂₀ through a linear latent→RGB map (approximate "
            "colours)")
        self.latent_view.set_latents(preview.latents, f"x_t after step {preview.step}")

    def _on_result(self, result) -> None:
        self.show_result(result)
        self.save_bar.images_ready()  # auto-saves when switched on
        seconds = result.seconds
        self.set_status(f"Done: {len(result.images)} image(s), {steps_phrase(result)} in "
                        f"{seconds:.1f} s with {result.scheduler_class}."
                        + ("".join(f"\n⚠ {w}" for w in result.warnings)))

    def _on_cancelled(self, partial) -> None:
        if partial is not None and partial.partial_latents is not None:
            self._decode_partial(partial)
        elif partial is not None and partial.images:
            self._show_cancelled(partial)
        elif self._withdrawn:
            self.set_status("Cancelled before it started.")
        else:
            self.set_status("Cancelled before the first step.")

    def _decode_partial(self, partial) -> None:
        """The unfinished batch comes back as latents (x̂₀ at its last step): decode them now,
        after the job, then show them with the finished images."""
        request = self.result_request
        latents = partial.partial_latents
        decoded: dict[int, np.ndarray] = {}
        self.set_status(f"Cancelled after {partial.steps_done} model call(s); decoding what the "
                        "model predicted at that point…")

        def done(image) -> None:
            decoded[image.tag] = image.image
            if len(decoded) == len(latents):
                first = len(partial.images)
                seeds = tuple((request.seed + first + j) % 2**32 for j in range(len(latents)))
                self._show_cancelled(replace(
                    partial, images=partial.images + tuple(decoded[j] for j in sorted(decoded)),
                    seeds=partial.seeds + seeds, partial_latents=None))

        for index, each in enumerate(latents):
            job = self._submit_background(DecodeLatentsRequest(
                each, request.source, request.options, tag=index, overlay=partial.overlay),
                "Decoding the cancelled image")
            if job is None:
                return
            job.succeeded.connect(done)
            job.failed.connect(lambda message: self.set_status(
                f"Cancelled; the unfinished image could not be decoded: {message}", error=True))

    def _show_cancelled(self, partial) -> None:
        self.show_result(partial)
        self.set_status(f"Cancelled after {partial.steps_done} model call(s) of "
                        f"{steps_phrase(partial)}; showing what the model predicted at that "
                        "point (x̂₀, decoded).")

    def _on_finished(self) -> None:
        self._job = None
        self.generate_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setEnabled(False)

    def show_result(self, result) -> None:
        self.result = result
        self.frames = {}
        self.last_seed = result.seed
        self.reuse_seed_button.setEnabled(True)
        self.save_button.setEnabled(True)
        self.save_bar.set_has_images(bool(result.images))
        if result.model_info is not None:
            self._on_model_loaded(result.model_info, adopt_size=False)
        self.use_result_button.setEnabled(True)
        if result.tokens is not None:
            self.token_view.set_info(result.tokens)
            self._show_token_count(result.tokens)
        self.thumbnails.blockSignals(True)
        self.thumbnails.clear()
        for index, image in enumerate(result.images):
            item = QListWidgetItem(QIcon(pixmap_from_array(image)), f"#{index + 1}")
            item.setToolTip(f"seed {result.seeds[index]}")
            self.thumbnails.addItem(item)
        self.thumbnails.setVisible(len(result.images) > 1)
        self.thumbnails.setCurrentRow(0)
        self.thumbnails.blockSignals(False)
        self.select_image(0)

    def select_image(self, index: int) -> None:
        if self.result is None or not 0 <= index < len(self.result.images):
            return
        self.image_index = index
        steps = self._recorded_steps(index)
        self.step_slider.blockSignals(True)
        self.step_slider.setRange(1, max(1, steps))
        self.step_slider.setValue(max(1, steps))
        self.step_slider.setEnabled(steps > 1)
        self.step_slider.blockSignals(False)
        self._show_step_label(steps)
        self.image_view.set_image(self.result.images[index], self._caption(index, steps, final=True))
        recorded = self._recorded(index, steps, "xt")
        if recorded is not None:
            self.latent_view.set_latents(recorded, f"x_t after step {steps}")

    def _caption(self, index: int, step: int, final: bool = False, note: str = "") -> str:
        result = self.result
        seed = result.seeds[index]
        head = f"seed {seed} · {result.parameters['width']}×{result.parameters['height']}"
        if final:
            if result.cancelled:
                return f"{head} · cancelled after {step} model call(s) of {steps_phrase(result)}"
            return f"{head} · final image after {steps_phrase(result)}"
        t = result.timesteps[step - 1] if step - 1 < len(result.timesteps) else float("nan")
        return f"{head} · {step_position(result, step)} · t = {t:.0f} · {note}"

    def _show_step_label(self, step: int) -> None:
        text = step_position(self.result, step)
        self.step_label.setText(text[0].upper() + text[1:] + " · " + steps_phrase(self.result))

    def _recorded_steps(self, index: int) -> int:
        if self.result is None or not self.result.step_latents:
            return 0
        batch = index // max(1, self.result.parameters["batch_size"])
        if batch >= len(self.result.step_latents):
            return 0
        return self.result.step_latents[batch].shape[0]

    def _recorded(self, index: int, step: int, kind: str) -> np.ndarray | None:
        if step < 1 or step > self._recorded_steps(index):
            return None
        per_batch = max(1, self.result.parameters["batch_size"])
        runs = self.result.step_predictions if kind == "x0" else self.result.step_latents
        return runs[index // per_batch][step - 1, index % per_batch]

    # -- scrubbing -------------------------------------------------------------------------
    def show_step(self, step: int) -> None:
        """Show a recorded step: the cached decode, else the cheap sketch while the VAE decodes."""
        if self.result is None:
            return
        self._show_step_label(step)
        kind = self.scrub_kind.currentData()
        key = (self.image_index, step, kind)
        if key in self.frames:
            self.image_view.set_image(self.frames[key], self._caption(
                self.image_index, step, note=f"{SCRUB_KINDS[kind]}, decoded by the VAE"))
            return
        latents = self._recorded(self.image_index, step, kind)
        if latents is None:
            return
        self.latent_view.set_latents(latents, f"{'x̂₀' if kind == 'x0' else 'x_t'} at step {step}")
        self.image_view.set_image(latents_to_rgb(latents), self._caption(
            self.image_index, step, note=f"{SCRUB_KINDS[kind]}, quick sketch (decoding…)"))
        self._wanted_frame = key
        self._request_decode()

    def _request_decode(self) -> None:
        """One decode in flight at a time; only the newest wanted frame is decoded next."""
        if self._decode_job is not None or self._wanted_frame is None:
            return
        key = self._wanted_frame
        self._wanted_frame = None
        latents = self._recorded(*key)
        request = self.result_request
        job = self._submit_background(
            DecodeLatentsRequest(latents, request.source, request.options, tag=key,
                                 overlay=self.result.overlay), "Decoding a step")
        if job is None:
            return
        self._decode_job = job
        job.succeeded.connect(self._on_decoded)
        job.finished.connect(self._on_decode_finished)

    def _on_decoded(self, decoded) -> None:
        self.frames[decoded.tag] = decoded.image
        index, step, kind = decoded.tag
        if (index, kind) == (self.image_index, self.scrub_kind.currentData()) and \
                step == self.step_slider.value():
            self.show_step(step)

    def _on_decode_finished(self) -> None:
        self._decode_job = None
        self._request_decode()

    # -- seeds, saving, inputs -------------------------------------------------------------
    def reuse_seed(self) -> None:
        if self.result is not None:
            seed = self.result.seeds[self.image_index]
            self.random_seed.setChecked(False)
            self.seed_spin.setValue(min(seed, MAX_SEED))

    def shown_image(self) -> np.ndarray | None:
        if self.result is None:
            return None
        return self.result.images[self.image_index]

    def _shown_save_items(self) -> list:
        if self.result is None or not self.result.images:
            return []
        return save_items(self.result_request, self.result, [self.image_index])

    def _all_save_items(self) -> list:
        if self.result is None:
            return []
        return save_items(self.result_request, self.result)

    def save_image(self, path: str):
        """Save the shown image to ``path`` (the file dialog has asked before replacing)."""
        (item,) = self._shown_save_items()
        return save_image_as(path, item.image, item.parameters, item.request, item.kind,
                             overwrite=True)

    def _save_dialog(self) -> None:
        if self.result is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save image", f"sd-{self.result.seeds[self.image_index]}.png",
                                              "PNG images (*.png)")
        if path:
            try:
                self.save_image(path)
            except (SaveError, ValueError) as exc:
                self.context.window.show_error("Save failed", str(exc))
            else:
                self.set_status(f"Saved {path} (parameters inside the PNG)")

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
            self.pages.setCurrentIndex(0)

    # -- model, tokens ---------------------------------------------------------------------
    def _on_engine_ready(self, info) -> None:
        job = self.engine.submit(CachedModelsRequest(), "Listing cached models")
        job.succeeded.connect(self.picker.set_cached_models)
        self.request_tokens()

    def load_model(self):
        self._remember_model()
        job = self.engine.submit(LoadModelRequest(self.picker.source(), self.picker.options(self.device())),
                                 "Loading the model")
        ahead = self.engine.waiting_behind(job)
        self.picker.set_info(f"Loading… (after {ahead.label})" if ahead is not None else "Loading…")
        job.succeeded.connect(self._on_model_loaded)
        job.failed.connect(lambda message: self.picker.set_info(message, error=True))
        job.cancelled.connect(lambda _: self.picker.set_info("Loading was cancelled: the model "
                                                             "loads with the first image."))
        return job

    def _on_model_loaded(self, info, adopt_size: bool = True) -> None:
        text = (f"<b>{info.pipeline_class}</b> on {info.device.upper()} · UNet {info.dtype}, VAE "
                f"{info.vae_dtype} · native size {info.default_size} px · loaded in {info.seconds:.1f} s")
        if info.is_inpainting_model:
            text += "<br>Inpainting checkpoint: use inpaint/outpaint."
        for warning in info.warnings:
            text += f"<br><span style='color:#b00020'>⚠ {warning}</span>"
        if adopt_size and not self.size_chosen:
            self.set_size(info.default_size, info.default_size)
        size = (self.width_spin.value(), self.height_spin.value())
        if size != (info.default_size, info.default_size):
            text += (f"<br><span style='color:#8a5300'>Size {size[0]}×{size[1]} px is kept (your "
                     f"choice); this model was trained at {info.default_size} px, and far from "
                     "it images tend to repeat or lose their structure.</span>")
        self.picker.set_info(text)
        self.request_tokens()

    def set_size(self, width: int, height: int) -> None:
        """Set the size for the user (a model's native size): not counted as their choice."""
        self._setting_size = True
        try:
            self.width_spin.setValue(width)
            self.height_spin.setValue(height)
        finally:
            self._setting_size = False

    def _on_size_edited(self, _value) -> None:
        if not self._setting_size:
            self.size_chosen = True

    def request_tokens(self) -> None:
        if self._token_job is not None:
            self._tokens_stale = True
            return
        job = self._submit_background(TokensRequest(self.prompt_edit.toPlainText(),
                                                    self.picker.source()), "Tokenising the prompt")
        if job is None:
            return
        self._token_job = job
        job.succeeded.connect(self._on_tokens)
        job.failed.connect(lambda message: self.token_view.set_message(message))
        job.finished.connect(self._on_tokens_finished)

    def _on_tokens(self, info) -> None:
        if info is None:
            self.token_view.set_message("The tokens appear once the model's tokenizer is at hand: "
                                        "load the model (or pick one in the cache or on disk).")
            self.token_count.setText("")
            return
        self.token_view.set_info(info)
        self._show_token_count(info)

    def _show_token_count(self, info) -> None:
        over = info.count > info.usable
        self.token_count.setText(f"{info.count} / {info.usable} tokens" +
                                 (" — the rest is cut off (see Tokens)" if over else ""))
        self.token_count.setStyleSheet("color: #b00020" if over else "color: #555")

    def _on_tokens_finished(self) -> None:
        self._token_job = None
        if self._tokens_stale:
            self._tokens_stale = False
            self.request_tokens()

    # -- round trip and comparison ---------------------------------------------------------
    def round_trip(self):
        image = self.init_image if self.init_image is not None else self.shown_image()
        if image is None:
            self.set_status("Open an input image or generate one first.", error=True)
            return None
        job = self.engine.submit(VaeRoundTripRequest(image, self.picker.source(),
                                                     self.picker.options(self.device())),
                                 "VAE round trip")
        job.succeeded.connect(self._on_round_trip)
        return job

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
        texts = [text.strip() for text in self.compare_values.text().split(",") if text.strip()]
        try:
            if vary == "scheduler":
                bad = [t for t in texts if t not in SCHEDULER_NAMES]
                if bad:
                    raise ValueError(f"Unknown scheduler(s): {', '.join(bad)}")
                values = tuple(texts)
            else:
                values = tuple(int(t) if vary == "steps" else float(t) for t in texts)
            if not values:
                raise ValueError("Enter comma-separated values to compare.")
            seed = self._seed_for_run()
            base = self.build_request(seed)
            import dataclasses

            base = dataclasses.replace(base, batch_size=1, batch_count=1)
        except ValueError as exc:
            self.set_status(str(exc), error=True)
            return None
        job = self.engine.submit(ComparisonGridRequest(base, vary, values), "Comparison grid")
        job.succeeded.connect(lambda result: self.compare_view.set_image(
            result.grid, f"seed {result.seed} · varying {self.compare_vary.currentText()}"))
        job.failed.connect(lambda message: self.set_status(message, error=True))
        return job

    def _submit_background(self, request, description: str):
        """Submit follow-up work (tokens, scrub frames) unless the window is closing."""
        try:
            return self.engine.submit(request, description)
        except RuntimeError:  # the engine has shut down: the window is closing
            return None

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #b00020" if error else "")

    # -- remembering and restoring ---------------------------------------------------------
    def _remember_model(self) -> None:
        location = self.picker.source().location
        if location:
            self.preferences.set_last_model(KIND_STABLE_DIFFUSION, location)

    def restore_parameters(self, request: dict) -> bool:
        """Set every control from a saved image's record (ours), or from another tool's A1111
        parameters (``{"foreign_parameters": {...}}``). True when the controls now reproduce
        the image; otherwise the status line says what is missing."""
        if not isinstance(request, dict):
            raise ValueError("the stored request is not a set of parameters")
        if "foreign_parameters" in request:
            notes = self._restore_foreign(GenerationParameters.from_dict(
                request["foreign_parameters"] if isinstance(request["foreign_parameters"], dict)
                else {}))
        else:
            notes = self._restore_record(request)
        index = request.get("image_index", 0)
        batch = (f" (it is image #{index + 1} of the batch)"
                 if isinstance(index, int) and not isinstance(index, bool) and index > 0 else "")
        if notes:
            self.set_status(f"Restored{batch}, except: " + "; ".join(notes) + ".", error=True)
        else:
            self.set_status(f"Restored the parameters of the image{batch}: press Generate to "
                            "make it again.")
        return not notes

    def _restore_record(self, request: dict) -> list[str]:
        notes: list[str] = []
        source = request.get("source")
        if isinstance(source, dict) and isinstance(source.get("location"), str):
            self.picker.set_location(source["location"])
            config = source.get("config")
            self.picker.config.setText(config if isinstance(config, str) else "")
            # Consent to unpickle is never taken from a file: the user ticks it again.
            self.picker.allow_pickle.setChecked(False)
            if source.get("allow_pickle") and self.picker.allow_pickle.isEnabled():
                notes.append("tick “Allow unpickling” yourself if you trust this checkpoint")
            if ModelSource(source["location"]).kind != "hub" and not _exists(source["location"]):
                notes.append(f"the model {source['location']} is not on this computer")
        options = request.get("options")
        if isinstance(options, dict):
            for name in ("attention_slicing", "vae_tiling", "cpu_offload"):
                if isinstance(options.get(name), bool):
                    getattr(self.picker, name).setChecked(options[name])
        if isinstance(request.get("prompt"), str):
            self.prompt_edit.setPlainText(request["prompt"])
        if isinstance(request.get("negative_prompt"), str):
            self.negative_edit.setPlainText(request["negative_prompt"])
        mode = request.get("mode", "txt2img")
        if mode in MODES:
            self.mode_combo.setCurrentIndex(list(MODES).index(mode))
        else:
            notes.append(f"unknown mode {mode!r}")
        for key, spin in (("steps", self.steps_spin), ("guidance_scale", self.guidance_spin),
                          ("width", self.width_spin), ("height", self.height_spin),
                          ("batch_size", self.batch_size_spin),
                          ("batch_count", self.batch_count_spin), ("strength", self.strength_spin),
                          ("mask_feather", self.feather_spin)):
            if key in request:
                _set_spin(spin, request[key], key.replace("_", " "), notes)
        # Records from before the option existed had the overlay on (the engine's default).
        self.overlay_check.setChecked(request.get("overlay", True) is not False)
        scheduler = request.get("scheduler")
        if scheduler in SCHEDULER_NAMES:
            self.scheduler_combo.setCurrentText(scheduler)
        elif scheduler is not None:
            notes.append(f"unknown scheduler {scheduler!r}")
        outpaint = request.get("outpaint")
        if isinstance(outpaint, list) and len(outpaint) == 4:
            for spin, value in zip(self.outpaint_spins, outpaint, strict=True):
                _set_spin(spin, value, "outpaint margin", notes)
        self._restore_seed(request.get("seed"), notes)
        if mode != "txt2img" and self.init_image is None:
            notes.append("the input image is not stored in the PNG: open it in “Input & mask”")
        elif mode == "inpaint":
            notes.append("the input image and mask are not stored in the PNG: check them in "
                         "“Input & mask”")
        return notes

    def _restore_foreign(self, parameters: GenerationParameters) -> list[str]:
        """What an A1111-style text can say; the rest of the controls stays as it is."""
        notes: list[str] = []
        self.mode_combo.setCurrentIndex(list(MODES).index("txt2img"))
        self.prompt_edit.setPlainText(parameters.prompt)
        self.negative_edit.setPlainText(parameters.negative_prompt)
        for value, spin, label in ((parameters.steps, self.steps_spin, "steps"),
                                   (parameters.cfg_scale, self.guidance_spin, "CFG scale"),
                                   (parameters.width, self.width_spin, "width"),
                                   (parameters.height, self.height_spin, "height")):
            if value is not None:
                _set_spin(spin, value, label, notes)
        self.batch_size_spin.setValue(1)
        self.batch_count_spin.setValue(1)
        if parameters.sampler:
            scheduler = scheduler_for_sampler(parameters.sampler, parameters.schedule_type)
            if scheduler is None:
                notes.append(f"no scheduler here matches the sampler “{parameters.sampler}”")
            else:
                self.scheduler_combo.setCurrentText(scheduler)
        self._restore_seed(parameters.seed, notes)
        if parameters.model:
            notes.append(f"choose the model yourself (the file names “{parameters.model}”)")
        return notes

    def _restore_seed(self, seed, notes: list[str]) -> None:
        if seed is None:
            return
        if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED:
            self.random_seed.setChecked(False)
            self.seed_spin.setValue(seed)
        else:
            notes.append(f"the seed {seed} does not fit the seed box (0 … {MAX_SEED})")


def _set_spin(spin, value, label: str, notes: list[str]) -> None:
    """Set a spin box only to a value it can show exactly; otherwise say so."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if is_number and isinstance(spin, QSpinBox) and float(value).is_integer():
        value = int(value)
    if not is_number or (isinstance(spin, QSpinBox) and not isinstance(value, int)) \
            or not spin.minimum() <= value <= spin.maximum():
        notes.append(f"{label} {value!r} is outside {spin.minimum()} … {spin.maximum()}")
        return
    spin.setValue(value)


def _exists(location: str) -> bool:
    from pathlib import Path

    return Path(location).expanduser().exists()
