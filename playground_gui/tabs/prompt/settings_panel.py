"""The Prompt tab's left column: model, prompts, sampling settings, Generate / Cancel, status.

``build_settings(view)`` makes the widgets and hangs them on the view under the names the
binding table (``binding.py``) and the tests use (``view.steps_spin`` …); the view connects
them to what they do.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.stable_diffusion.types import (
    DEFAULT_RECORDING_BUDGET_MB,
    MAX_SEED,
    MODES,
    SCHEDULER_NAMES,
)
from playground_gui.tabs.prompt.decoders_view import add_preview_decoder_row
from playground_gui.tabs.prompt.guidance_view import add_guidance_controls
from playground_gui.tabs.prompt.hires_panel import build_hires_box
from playground_gui.tabs.prompt.lora_panel import LoraPanel
from playground_gui.tabs.prompt.model_picker import PromptModelPicker
from playground_gui.tabs.prompt.prediction_controls import add_zero_snr_control
from playground_gui.tabs.prompt.sdxl_panel import build_sdxl_box
from playground_gui.widgets.control_column import form_group, scrolling_column
from playground_gui.widgets.explanation import ExplanationPanel

MODE_LABELS = {"txt2img": "Text → image", "img2img": "Image → image", "inpaint": "Inpaint (mask)",
               "outpaint": "Outpaint (extend)"}


def build_settings(view) -> QWidget:
    panel = QWidget()
    column = QVBoxLayout(panel)
    view.picker = PromptModelPicker()
    column.addWidget(view.picker)
    column.addWidget(_prompt_box(view))
    view.lora_panel = LoraPanel(view.context.window.settings)
    view.lora_dir_edit = view.lora_panel.folder_edit  # bound: lora_dir
    column.addWidget(view.lora_panel)
    column.addWidget(_sampling_box(view))
    column.addWidget(build_hires_box(view))
    column.addWidget(build_sdxl_box(view))  # shown for SDXL models only
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
    outer.addLayout(_buttons(view))
    outer.addWidget(_status_label(view))
    return container


def _prompt_box(view) -> QGroupBox:
    box = QGroupBox("Prompt")
    layout = QVBoxLayout(box)
    view.prompt_edit = QPlainTextEdit("a painting of a red cat in the snow, soft light")
    view.prompt_edit.setFixedHeight(70)
    view.prompt_edit.setToolTip("What the image should show. Only the first 75 tokens count.")
    view.token_count = QLabel()
    view.token_count.setStyleSheet("color: #555")
    view.negative_edit = QPlainTextEdit("blurry, low quality")
    view.negative_edit.setFixedHeight(44)
    view.negative_edit.setToolTip("What to steer away from: classifier-free guidance pushes "
                                  "away from this prompt instead of from the empty prompt")
    layout.addWidget(view.prompt_edit)
    layout.addWidget(view.token_count)
    layout.addWidget(QLabel("Negative prompt"))
    layout.addWidget(view.negative_edit)
    return box


def _sampling_box(view) -> QGroupBox:
    box, form = form_group("Sampling")
    view.mode_combo = QComboBox()
    for mode in MODES:
        view.mode_combo.addItem(MODE_LABELS[mode], mode)
    form.addRow("Mode", view.mode_combo)
    view.steps_spin = QSpinBox(minimum=1, maximum=150, value=25)  # as in AUTOMATIC1111
    view.steps_spin.setToolTip("Denoising steps; img2img/inpaint run strength × steps of them")
    form.addRow("Steps", view.steps_spin)
    view.guidance_spin = QDoubleSpinBox(minimum=0.0, maximum=30.0, value=7.5, singleStep=0.5)
    view.guidance_spin.setToolTip("Classifier-free guidance scale s: ε = ε(∅) + s·(ε(prompt) − "
                                  "ε(∅)). 1 = no guidance; 5–9 is typical; LCM/Turbo models "
                                  "want 0–2")
    form.addRow("Guidance", view.guidance_spin)
    add_guidance_controls(view, form)
    form.addRow("Seed", _seed_row(view))
    form.addRow("Size", _size_row(view))
    batch_row = QHBoxLayout()
    view.batch_size_spin = QSpinBox(minimum=1, maximum=8, value=1, prefix="size ")
    view.batch_size_spin.setToolTip("Images computed together in one pass (more memory)")
    view.batch_count_spin = QSpinBox(minimum=1, maximum=16, value=1, prefix="count ")
    view.batch_count_spin.setToolTip("Passes one after the other (seed + 1 for every image)")
    batch_row.addWidget(view.batch_size_spin)
    batch_row.addWidget(view.batch_count_spin)
    form.addRow("Batch", batch_row)
    view.scheduler_combo = QComboBox()
    view.scheduler_combo.addItems(list(SCHEDULER_NAMES))
    view.scheduler_combo.setToolTip("The sampler that turns noise predictions into steps; "
                                    "“default” is the model's own")
    form.addRow("Scheduler", view.scheduler_combo)
    add_zero_snr_control(view, form)
    view.recording_budget_spin = QSpinBox(minimum=0, maximum=65536, singleStep=128,
                                          value=DEFAULT_RECORDING_BUDGET_MB, suffix=" MB")
    view.recording_budget_spin.setSpecialValueText("off")
    view.recording_budget_spin.setToolTip(
        "Memory for the steps the step slider scrubs (x_t and x̂₀ of every step; the Guidance "
        "page's two branches get as much again). Over it the "
        "steps are kept in float16, then only every k-th step and the last; 0 = no recording.")
    form.addRow("Step recording", view.recording_budget_spin)
    add_preview_decoder_row(view, form)  # TAESD for full-size previews (decoders_view.py)
    view.strength_spin = QDoubleSpinBox(minimum=0.05, maximum=1.0, value=0.75, singleStep=0.05)
    view.strength_spin.setToolTip("How far the input is pushed into noise before denoising: "
                                  "0.3 keeps the composition, 1.0 keeps almost nothing")
    view.strength_label = QLabel("Strength")
    form.addRow(view.strength_label, view.strength_spin)
    # Two by two (left, right / top, bottom): four in a row made the column scroll sideways.
    outpaint_row = QGridLayout()
    view.outpaint_spins = []
    for index, name in enumerate(("L", "T", "R", "B")):
        spin = QSpinBox(minimum=0, maximum=1024, singleStep=8, value=64 if name in "LR" else 0,
                        prefix=f"{name} ")
        spin.setToolTip("Pixels to add on this side (multiple of 8)")
        _round_to_8_on_edit(spin)
        view.outpaint_spins.append(spin)
        outpaint_row.addWidget(spin, index % 2, index // 2)
    view.outpaint_label = QLabel("Extend by")
    form.addRow(view.outpaint_label, outpaint_row)
    view.feather_spin = QSpinBox(minimum=0, maximum=64, value=4, suffix=" px")
    view.feather_spin.setToolTip("Blur the mask edge so the repainted area blends in")
    view.feather_label = QLabel("Mask feather")
    form.addRow(view.feather_label, view.feather_spin)
    view.overlay_check = QCheckBox("Keep pixels outside the mask")
    view.overlay_check.setChecked(True)
    view.overlay_check.setToolTip(
        "After decoding, paste the input's own pixels back outside the (feathered) mask, as "
        "AUTOMATIC1111 does: the VAE's round trip would otherwise soften or shift them. "
        "Untick to see the model's whole decoded image.")
    form.addRow("", view.overlay_check)
    return box


def _seed_row(view) -> QHBoxLayout:
    row = QHBoxLayout()
    # A QSpinBox stops at 2**31 − 1; a whole-number double spin box holds every seed
    # (2**32 − 1 is exact in a double), so any saved image can be restored.
    view.seed_spin = QDoubleSpinBox(minimum=0, maximum=MAX_SEED, value=1234, decimals=0)
    view.random_seed = QCheckBox("random", checked=True)
    view.random_seed.setToolTip("Draw a new seed for every run (it is shown with the result)")
    view.random_seed.toggled.connect(lambda on: view.seed_spin.setEnabled(not on))
    view.seed_spin.setEnabled(False)
    view.reuse_seed_button = QPushButton("Reuse last")
    view.reuse_seed_button.setToolTip("Fix the seed of the last image, to vary one setting at a "
                                      "time")
    view.reuse_seed_button.setEnabled(False)
    row.addWidget(view.seed_spin, 1)
    row.addWidget(view.random_seed)
    row.addWidget(view.reuse_seed_button)
    return row


def _size_row(view) -> QHBoxLayout:
    row = QHBoxLayout()
    view.width_spin = QSpinBox(minimum=64, maximum=2048, value=512, singleStep=8, suffix=" px")
    view.height_spin = QSpinBox(minimum=64, maximum=2048, value=512, singleStep=8, suffix=" px")
    for spin in (view.width_spin, view.height_spin):
        spin.setToolTip("Multiples of 8 (the VAE shrinks the image 8× per side into latents); "
                        "SD 1.x was trained at 512, SD 2 base at 512, SDXL at 1024")
        _round_to_8_on_edit(spin)
    row.addWidget(view.width_spin)
    row.addWidget(QLabel("×"))
    row.addWidget(view.height_spin)
    return row


def _round_to_8_on_edit(spin: QSpinBox) -> None:
    spin.editingFinished.connect(lambda: spin.setValue(round(spin.value() / 8) * 8))


def _buttons(view) -> QHBoxLayout:
    row = QHBoxLayout()
    view.generate_button = QPushButton("Generate")
    view.generate_button.setStyleSheet("font-weight: bold; padding: 6px")
    view.generate_button.setShortcut("Ctrl+Return")
    view.generate_button.setToolTip("Ctrl+Enter")
    view.cancel_button = QPushButton("Cancel")
    view.cancel_button.setEnabled(False)
    view.cancel_button.setToolTip("Stop after the current step; what exists is kept")
    view.save_button = QPushButton("Save as…")
    view.save_button.setEnabled(False)
    view.save_button.setToolTip("Save the shown image under a name and folder of your choice, "
                                "with its parameters in the PNG (the save bar under the image "
                                "saves to the output folder)")
    for button in (view.generate_button, view.cancel_button, view.save_button):
        row.addWidget(button)
    return row


FIRST_STATUS = "Choose a model and press Generate. The model loads with the first image."


class StatusText(QLabel):
    """A word-wrapped label as tall as its text at its width: inside a QScrollArea a plain
    wrapped QLabel reports one line's height, so a long message was cut, not scrolled."""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        height = self.heightForWidth(self.width())
        if height > 0 and height != self.minimumHeight():
            self.setMinimumHeight(height)


def _status_label(view) -> QScrollArea:
    view.status_label = StatusText(FIRST_STATUS)
    label = view.status_label
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # Three lines whatever the message, so a longer status never moves the buttons above; a
    # longer one (a run's warnings) scrolls instead of being cut off.
    area = QScrollArea()
    area.setWidget(label)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFixedHeight(3 * label.fontMetrics().lineSpacing() + 6)
    return area
