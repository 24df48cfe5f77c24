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


def apply_family(view, info) -> None:
    """Bring the controls to the family of ``info`` (the loaded ``ModelInfo``)."""
    flow = is_flow_matching(info.pipeline_class)
    slicing = view.picker.attention_slicing
    if slicing.property("tip") is None:
        slicing.setProperty("tip", slicing.toolTip())
    slicing.setEnabled(not flow)
    slicing.setToolTip(ATTENTION_SLICING_NOTE if flow else slicing.property("tip"))
    _set_schedulers(view.scheduler_combo, scheduler_names_for(info.pipeline_class, SCHEDULER_NAMES))
    _set_attention_check(view.attention_check, flow)
    for spin in (view.guidance_cutoff_spin, view.guidance_rescale_spin):
        if spin.property("tip") is None:
            spin.setProperty("tip", spin.toolTip())
        spin.setEnabled(not flow)
        spin.setToolTip(NO_BRANCHES_TIP if flow else spin.property("tip"))
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
