"""The Prompt tab's Hires fix group: the request it builds, the slider over both passes, and
restoring another tool's hires parameters."""

from __future__ import annotations

from engine.png.a1111 import parse_parameters
from playground_gui.tabs.prompt.binding import request_fields
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


def test_hires_run_scrubs_both_passes_and_restores_a1111_parameters(qtbot, window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    assert not tab.hires_strength_spin.isEnabled()  # off: one pass
    tab.hires_scale_spin.setValue(1.5)
    tab.hires_strength_spin.setValue(0.5)
    tab.hires_steps_spin.setValue(4)
    tab.hires_upscaler_combo.setCurrentIndex(tab.hires_upscaler_combo.findData("lanczos"))
    assert tab.hires_size_label.text() == "Output 96×96 px"
    request = tab.build_request(seed=5)
    assert (request.hires_scale, request.hires_strength, request.hires_steps,
            request.hires_upscaler) == (1.5, 0.5, 4, "lanczos")
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    assert result.images[0].shape == (96, 96, 3)
    slider = tab.result_panel.step_slider
    assert slider.maximum() == 2 + 2  # two base steps, then int(4 × 0.5) hires steps
    slider.setValue(3)
    assert tab.result_panel.step_label.text().startswith("Hires step 1/2 at 96×96")
    assert tab.session.recorded(0, 3, "x0").shape[-2:] == (48, 48)  # the tiny VAE halves
    assert tab.session.recorded(0, 2, "x0").shape[-2:] == (32, 32)

    tab.mode_combo.setCurrentIndex(tab.mode_combo.findData("img2img"))
    assert request_fields(tab)["hires_scale"] == 1.0  # txt2img only
    assert not tab.hires_scale_spin.isEnabled()
    tab.mode_combo.setCurrentIndex(tab.mode_combo.findData("txt2img"))
    text = ("a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512, "
            "Denoising strength: 0.45, Hires upscale: 2, Hires steps: 10, "
            "Hires upscaler: Latent (bicubic)")
    tab.restore_parameters({"foreign_parameters": parse_parameters(text).to_dict()})
    assert (tab.hires_scale_spin.value(), tab.hires_strength_spin.value(),
            tab.hires_steps_spin.value(), tab.hires_upscaler_combo.currentData()) == (
        2.0, 0.45, 10, "latent")


def test_upscaler_model_field_builds_and_restores_the_request(window, tiny_folder):
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    tab.hires_scale_spin.setValue(2.0)
    assert tab.hires_upscaler_model_edit.isEnabled()
    assert tab.build_request(seed=5).hires_upscaler_model is None  # empty: the built-in upscale
    tab.hires_upscaler_model_edit.setText("  /models/sd-x2-latent-upscaler ")
    request = tab.build_request(seed=5)
    assert request.hires_upscaler_model == "/models/sd-x2-latent-upscaler"
    record = request.parameters()
    tab.hires_upscaler_model_edit.clear()
    tab.restore_parameters(record)
    assert tab.hires_upscaler_model_edit.text() == "/models/sd-x2-latent-upscaler"
    text = "a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512"
    tab.restore_parameters({"foreign_parameters": parse_parameters(text).to_dict()})
    assert tab.hires_upscaler_model_edit.text() == ""  # another tool's text names no folder
