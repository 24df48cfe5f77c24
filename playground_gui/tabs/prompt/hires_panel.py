"""The Prompt tab's "Hires fix" group (engine/stable_diffusion/hires.py) and how the step slider
walks its two passes.

The settings are five bound controls (binding.py's table). The step slider shows one recorded
run: the first pass's steps at the base size, then the second pass's at the hires size
(``GenerationResult.hires``, a second segment because its latents are larger).
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QGroupBox, QLabel, QLineEdit, QSpinBox

from engine.stable_diffusion.hires_types import MAX_HIRES_SCALE, scaled_size
from playground_gui.widgets.control_column import form_group

UPSCALER_LABELS = {"latent": "Latent (bicubic)", "lanczos": "Lanczos (pixels)"}

EXPLANATION = (
    "A model trained at 512² px asked for 1024² directly composes as if the image were four "
    "512² scenes: repeated subjects, two heads. The hires fix lets it compose at the base size, "
    "upscales the result and repaints it with image-to-image: the noise added (the strength) "
    "leaves the layout and lets the model add detail at the new size. The step slider walks "
    "both passes: the base steps, then the hires steps.")


def build_hires_box(view) -> QGroupBox:
    """The group, with its controls hung on the view under the binding table's names."""
    box, form = form_group("Hires fix (text → image)")
    view.hires_scale_spin = QDoubleSpinBox(minimum=1.0, maximum=MAX_HIRES_SCALE, value=1.0,
                                           singleStep=0.25, decimals=2, prefix="× ")
    view.hires_scale_spin.setSpecialValueText("off")
    view.hires_scale_spin.setToolTip("Output = this × the size above, rounded to a multiple of 8 "
                                     "(1 = off: one pass)")
    view.hires_strength_spin = QDoubleSpinBox(minimum=0.01, maximum=1.0, value=0.7,
                                              singleStep=0.05, decimals=2)
    view.hires_strength_spin.setToolTip(
        "Denoising strength of the second pass: low keeps the upscaled image (soft with the "
        "latent upscaler), high repaints it (0.5–0.7 is usual; latent wants ≥ 0.5)")
    view.hires_steps_spin = QSpinBox(minimum=0, maximum=150, value=0)
    view.hires_steps_spin.setSpecialValueText("same")
    view.hires_steps_spin.setToolTip("Steps of the second pass (\"same\" = Steps); as in "
                                     "image-to-image, strength × steps of them run")
    view.hires_upscaler_combo = QComboBox()
    for name, label in UPSCALER_LABELS.items():
        view.hires_upscaler_combo.addItem(label, name)
    view.hires_upscaler_combo.setToolTip(
        "Latent: bicubic on the latents (fast; needs strength ≥ 0.5 to clean up). Lanczos: "
        "decode, resize the pixels, encode again (sharper at low strength)")
    view.hires_upscaler_model_edit = QLineEdit()
    view.hires_upscaler_model_edit.setPlaceholderText("none (the upscaler above)")
    view.hires_upscaler_model_edit.setToolTip(
        "Optional: a diffusers upscaler folder or downloaded hub id, used instead of the "
        "upscaler above (StableDiffusionLatentUpscalePipeline: upscale × 2; "
        "StableDiffusionUpscalePipeline, the x4 upscaler: × 4)")
    view.hires_size_label = QLabel()
    view.hires_size_label.setStyleSheet("color: #555")
    form.addRow("Upscale", view.hires_scale_spin)
    form.addRow("Strength", view.hires_strength_spin)
    form.addRow("Hires steps", view.hires_steps_spin)
    form.addRow("Upscaler", view.hires_upscaler_combo)
    form.addRow("Upscaler model", view.hires_upscaler_model_edit)
    form.addRow("", view.hires_size_label)
    explanation = QLabel(EXPLANATION)
    explanation.setWordWrap(True)
    explanation.setStyleSheet("color: #555")
    form.addRow(explanation)

    def update() -> None:
        on = view.hires_scale_spin.value() > 1.0
        for control in (view.hires_strength_spin, view.hires_steps_spin,
                        view.hires_upscaler_combo, view.hires_upscaler_model_edit):
            control.setEnabled(on)
        width, height = scaled_size(view.width_spin.value(), view.height_spin.value(),
                                    view.hires_scale_spin.value())
        view.hires_size_label.setText(f"Output {width}×{height} px" if on else
                                      "One pass at the size above")

    for spin in (view.hires_scale_spin, view.width_spin, view.height_spin):
        spin.valueChanged.connect(update)
    view.mode_combo.currentIndexChanged.connect(
        lambda _: box.setEnabled(view.mode_combo.currentData() == "txt2img"))
    update()
    return box


# -- the step slider over both passes ----------------------------------------------------------
def hires_rows(result, batch: int) -> int:
    """Recorded rows of the second pass for ``batch`` (0 without the hires fix)."""
    hires = getattr(result, "hires", None)
    if hires is None or batch >= len(hires.step_latents):
        return 0
    return hires.step_latents[batch].shape[0]


def hires_position(result, position: int) -> tuple[int, float] | None:
    """(model call within the second pass, timestep) at slider ``position`` when it stands in
    the second segment, else None."""
    hires = getattr(result, "hires", None)
    row = position - len(result.recorded_steps) - 1
    if hires is None or not 0 <= row < len(hires.recorded_steps):
        return None
    return hires.recorded_steps[row], hires.timesteps[row]


def hires_step_text(result, position: int) -> str | None:
    """"hires step 2/10 (after 25 base steps)" in the second segment, else None."""
    at = hires_position(result, position)
    if at is None:
        return None
    hires = result.hires
    return (f"hires step {at[0]}/{hires.model_calls} at {hires.width}×{hires.height} "
            f"(after {hires.base_model_calls} base steps)")
