"""A Flux model in the Prompt tab: the flow-matching samplers only, attention slicing and the
attention maps greyed with a tooltip saying why, a run with 16-channel step decodes; a UNet
model brings the controls back."""

from __future__ import annotations

import pytest

from engine.stable_diffusion.denoiser_types import ATTENTION_SLICING_NOTE, FLOW_SCHEDULER_NAMES
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


@pytest.fixture(scope="session")
def tiny_flux_folder(tmp_path_factory):
    from engine.fixtures.tiny_flux import save_tiny_flux_pipeline

    return str(save_tiny_flux_pipeline(tmp_path_factory.mktemp("tiny-flux")))


def test_flux_gets_its_samplers_and_memory_options(qtbot, window, tiny_flux_folder, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_flux_folder, steps=2)
    name, info = wait_for_job(qtbot, tab.load_model(), timeout=120_000)
    assert name == "succeeded" and info.pipeline_class == "FluxPipeline"
    assert tab.status_label.text().endswith("is loaded: press Generate.")  # not the first hint
    combo = tab.scheduler_combo
    assert tuple(combo.itemText(i) for i in range(combo.count())) == FLOW_SCHEDULER_NAMES
    assert combo.currentText() == "default"  # "Euler" is not for flow matching
    slicing = tab.picker.attention_slicing
    assert not slicing.isEnabled() and slicing.toolTip() == ATTENTION_SLICING_NOTE
    assert not tab.attention_check.isEnabled() and not tab.attention_check.isChecked()
    assert not tab.guidance_cutoff_spin.isEnabled() and not tab.guidance_rescale_spin.isEnabled()
    assert "Flow matching" in tab.picker.info.text()
    assert tab.picker.compile_unet.text() == "Compile the transformer"
    tab.prompt_edit.setPlainText("a fox " * 60)  # past CLIP's 77 tokens: T5 still reads it
    qtbot.waitUntil(lambda: "T5 up to 512" in tab.token_count.text(), timeout=30_000)
    assert "cut off" not in tab.token_count.text()
    # Hires fix and zero terminal SNR do not apply: greyed, off, each tooltip says why.
    assert not tab.hires_scale_spin.isEnabled() and tab.hires_scale_spin.value() == 1.0
    assert "UNet models only" in tab.hires_scale_spin.toolTip()
    assert not tab.zero_snr_check.isEnabled() and "σ = 1" in tab.zero_snr_check.toolTip()

    combo.setCurrentText("DPM-Solver++ 2M (flow)")
    tab.width_spin.setValue(64)
    tab.height_spin.setValue(64)
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    assert result.scheduler_class == "DPMSolverMultistepScheduler"
    assert [w.split(":")[0] for w in result.warnings] == ["Flux-dev is guidance-distilled"]
    # The status line keeps its three lines: the warning scrolls there, it is not cut off.
    label = tab.status_label
    area = label.parentWidget().parentWidget()
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0, timeout=5_000)
    assert label.height() >= label.heightForWidth(label.width())  # all of it, by scrolling
    assert "ignores the negative prompt" in tab.negative_edit.toolTip()
    assert "guided inside their pipeline" in tab.guidance_view.caption.text()
    tab.step_slider.setValue(1)  # the recorded 16-channel x̂₀, decoded by the VAE
    qtbot.waitUntil(lambda: (0, 1, "x0") in tab.frames, timeout=60_000)
    assert tab.image_view.image.shape == (64, 64, 3)

    tab.picker.set_location(tiny_folder)
    assert wait_for_job(qtbot, tab.load_model(), timeout=120_000)[0] == "succeeded"
    assert slicing.isEnabled() and tab.attention_check.isChecked()
    assert tab.guidance_cutoff_spin.isEnabled() and tab.hires_scale_spin.isEnabled()
    assert tab.picker.compile_unet.text() == "Compile the UNet"
    assert not tab.zero_snr_check.isEnabled() and "predicts the noise" in tab.zero_snr_check.toolTip()
    assert combo.findText("Euler") >= 0 and combo.findText("Flow-matching Euler") < 0
    assert "ignores" not in tab.negative_edit.toolTip()
