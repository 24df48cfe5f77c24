"""The Prompt tab's controls follow the loaded model's family: SD 3 and Flux (flow-matching
transformers) get the flow-matching samplers only, no attention slicing (it does not reach their
attention) and no attention-map recording (no UNet cross-attention), each with a tooltip
saying why, and the explanation of flow matching under the model line."""

from __future__ import annotations

import html

from PySide6.QtCore import QSignalBlocker

from engine.stable_diffusion.denoiser_types import (
    ATTENTION_SLICING_NOTE,
    FLOW_EXPLANATION,
    FLOW_NOTE,
    denoiser_label,
    family_of_class,
    is_flow_matching,
    scheduler_names_for,
)
from engine.stable_diffusion.types import SCHEDULER_NAMES

NO_MAPS_TIP = ("SD 3 and Flux have no UNet cross-attention (text and image share one joint "
               "attention), so there are no per-word maps to record.")

NO_BRANCHES_TIP = ("CFG cut-off and rescale act on a UNet's two guidance branches; SD 3 and "
                   "Flux are guided inside their pipeline, so these do not apply.")
FLUX_NEGATIVE_TIP = ("Flux ignores the negative prompt: Flux-dev is guidance-distilled (the "
                     "guidance scale is an input of the model, typically 3.5; there is no "
                     "unconditional pass to steer away from), schnell has no guidance at all.")


NO_HIRES_TIP = ("The hires fix repaints with image-to-image, which the app runs for UNet models "
                "only; SD 3 and Flux were trained at 1024² and need no second pass.")
ZERO_SNR_FLOW_TIP = ("Flow-matching models (SD 3, Flux) start from pure noise at σ = 1 already: "
                     "zero terminal SNR is a fix for the UNet models' noise schedules.")
ZERO_SNR_EPSILON_TIP = ("This model predicts the noise ε: at zero terminal SNR the last step's "
                        "input is pure noise, whose ε says nothing about the image, so an ε-model "
                        "cannot start there. Zero SNR is for v-prediction models (SD 2.x 768).")


def apply_family(view, info) -> None:
    """Bring the controls to the family of ``info`` (the loaded ``ModelInfo``)."""
    flow = is_flow_matching(info.pipeline_class)
    _enable(view.picker.attention_slicing, not flow, ATTENTION_SLICING_NOTE)
    view.picker.compile_unet.setText(f"Compile the {denoiser_label(info.pipeline_class)}")
    _set_schedulers(view.scheduler_combo, scheduler_names_for(info.pipeline_class, SCHEDULER_NAMES))
    _set_attention_check(view.attention_check, flow)
    for spin in (view.guidance_cutoff_spin, view.guidance_rescale_spin):
        _enable(spin, not flow, NO_BRANCHES_TIP)
    _enable(view.hires_scale_spin, not flow, NO_HIRES_TIP)
    if flow:
        view.hires_scale_spin.setValue(1.0)  # off: a value hidden behind a grey box would run
    family = getattr(info, "family", None)
    v_model = family is not None and family.prediction_type == "v_prediction"
    _enable(view.zero_snr_check, v_model, ZERO_SNR_FLOW_TIP if flow else ZERO_SNR_EPSILON_TIP)
    if not v_model:
        with QSignalBlocker(view.zero_snr_check):
            view.zero_snr_check.setChecked(False)
    negative = view.negative_edit
    if negative.property("tip") is None:
        negative.setProperty("tip", negative.toolTip())
    flux = family_of_class(info.pipeline_class) == "Flux"
    negative.setToolTip(FLUX_NEGATIVE_TIP if flux else negative.property("tip"))
    if flow:
        info_label = view.picker.info
        info_label.setText(info_label.text() + "<br><span style='color:#444'>"
                           + html.escape(FLOW_NOTE) + "</span>")
        info_label.setToolTip(info_label.toolTip() + "\n\n" + FLOW_EXPLANATION)


def _enable(widget, enabled: bool, why_not: str) -> None:
    """Enable ``widget``, or grey it with ``why_not`` as its tooltip (its own tip comes back)."""
    if widget.property("tip") is None:
        widget.setProperty("tip", widget.toolTip())
    widget.setEnabled(enabled)
    widget.setToolTip(widget.property("tip") if enabled else why_not)


def _set_schedulers(combo, names: tuple[str, ...]) -> None:
    if tuple(combo.itemText(i) for i in range(combo.count())) == names:
        return
    current = combo.currentText()
    with QSignalBlocker(combo):
        combo.clear()
        combo.addItems(list(names))
        combo.setCurrentText(current if current in names else "default")


def _set_attention_check(check, flow: bool) -> None:
    """Off and greyed for SD 3/Flux; the user's choice comes back with a UNet model."""
    if check.property("tip") is None:
        check.setProperty("tip", check.toolTip())
    if flow and check.isEnabled():
        check.setProperty("wanted", check.isChecked())
        with QSignalBlocker(check):
            check.setChecked(False)
    elif not flow and not check.isEnabled():
        with QSignalBlocker(check):
            check.setChecked(bool(check.property("wanted")))
    check.setEnabled(not flow)
    check.setToolTip(NO_MAPS_TIP if flow else check.property("tip"))
