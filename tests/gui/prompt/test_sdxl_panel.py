"""The Prompt tab with a tiny random SDXL base and refiner: the SDXL group appears with the
model, its size becomes the model's native one, the run is the same for the same seed, the
refiner's steps are marked on the step slider, and the group's values round-trip through a
record."""

from __future__ import annotations

import numpy as np
import pytest

from engine.stable_diffusion.sdxl_types import SdxlOptions
from playground_gui.tabs.prompt.sdxl_panel import read_sdxl, show_for_model
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import prompt_tab


@pytest.fixture(scope="module")
def sdxl_folders(tmp_path_factory):
    from engine.fixtures.tiny_sdxl import save_tiny_sdxl_pipeline
    from engine.fixtures.tiny_sdxl_refiner import save_tiny_sdxl_refiner

    base = save_tiny_sdxl_pipeline(tmp_path_factory.mktemp("sdxl"))
    return str(base), str(save_tiny_sdxl_refiner(base, tmp_path_factory.mktemp("refiner")))


def test_sdxl_group_size_refiner_marker_and_restore(qtbot, window, sdxl_folders):
    base, refiner = sdxl_folders
    tab = prompt_tab(window)
    tab.picker.set_location(base)
    tab.hires_scale_spin.setValue(2.0)
    assert tab.sdxl_box.isHidden() and read_sdxl(tab) is None  # nothing known yet, all defaults
    name, info = wait_for_job(qtbot, tab.load_model(), timeout=120_000)
    assert name == "succeeded" and not tab.sdxl_box.isHidden()
    # The native size (64 px for the tiny model, 1024 for a real SDXL), not the user's choice;
    # what follows the size follows it too.
    assert (tab.width_spin.value(), tab.size_chosen) == (info.default_size, False)
    assert tab.hires_size_label.text() == f"Output {2 * info.default_size}×{2 * info.default_size} px"
    tab.hires_scale_spin.setValue(1.0)

    tab.steps_spin.setValue(5)
    tab.scheduler_combo.setCurrentText("Euler")
    tab.random_seed.setChecked(False)
    tab.seed_spin.setValue(11)
    tab.sdxl_original_size_spins[0].setValue(16)
    tab.sdxl_original_size_spins[1].setValue(24)
    tab.sdxl_crop_top_left_spins[0].setValue(8)
    tab.refiner_edit.setText(refiner)
    tab.refiner_switch_spin.setValue(0.6)
    options = SdxlOptions(original_size=(16, 24), crop_top_left=(8, 0), refiner=refiner,
                          refiner_switch=0.6)
    assert tab.build_request(seed=11).sdxl == options
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    name, again = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert np.array_equal(result.images[0], again.images[0])  # same seed, same image
    assert result.refiner.switch_step == 4
    panel = tab.result_panel
    assert panel.step_slider.maximum() == 5 and panel.refiner_marker.isVisible()
    assert panel.refiner_marker.position == 4
    panel.step_slider.setValue(4)
    assert panel.step_label.text().endswith("· refiner")
    panel.step_slider.setValue(3)
    assert panel.step_label.text().endswith("· base")

    record = tab.build_request(seed=11)
    from engine.png.record import to_jsonable

    stored = to_jsonable(record)
    tab.refiner_edit.clear()
    tab.sdxl_original_size_spins[0].setValue(0)
    tab.restore_parameters(stored)
    assert read_sdxl(tab) == options
    tab.mode_combo.setCurrentIndex(tab.mode_combo.findData("img2img"))
    assert read_sdxl(tab).refiner is None and not tab.refiner_edit.isEnabled()
    tab.mode_combo.setCurrentIndex(tab.mode_combo.findData("txt2img"))
    show_for_model(tab, type("Info", (), {"pipeline_class": "StableDiffusionPipeline"})())
    assert tab.sdxl_box.isHidden() and read_sdxl(tab) is None  # ignored for other models
    tab.restore_parameters(stored)  # an SDXL image's record: its options count again
    assert not tab.sdxl_box.isHidden() and read_sdxl(tab) == options
