"""The Prompt tab's controls for what a model family needs: the prediction type of a single
checkpoint file (model picker) and the zero-terminal-SNR schedule (Sampling box)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox

from engine.stable_diffusion.prediction import ZERO_SNR_TOOLTIP

PREDICTIONS = (  # (label, ModelSource.prediction_type)
    ("predicts: config's", None),
    ("predicts: ε", "epsilon"),
    ("predicts: v", "v_prediction"),
)


def prediction_combo() -> QComboBox:
    combo = QComboBox()
    for label, value in PREDICTIONS:
        combo.addItem(label, value)
    combo.setToolTip(
        "What the network of this checkpoint file predicts, over its config's scheduler: the "
        "noise ε (SD 1.x, SD 2.x 512-px base models, SDXL) or v = √ᾱ·ε − √(1−ᾱ)·x₀ (SD 2.x "
        "768-px models: 2.0-v, 2.1). A single file does not say; a wrong choice gives washed-out "
        "or fried images. The architecture still comes from the config folder (or the cache).")
    return combo


def set_prediction(combo: QComboBox, value) -> bool:
    """Select ``value`` (None: the config's); False when it is not one of the choices."""
    index = combo.findData(value if isinstance(value, str) else None)
    combo.setCurrentIndex(max(index, 0))
    return index >= 0


def add_zero_snr_control(view, form) -> None:
    """``view.zero_snr_check`` (bound: zero_snr) under the scheduler."""
    view.zero_snr_check = QCheckBox("Zero terminal SNR (v-models)")
    view.zero_snr_check.setToolTip(ZERO_SNR_TOOLTIP)
    form.addRow("", view.zero_snr_check)
