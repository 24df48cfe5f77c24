"""Issue 6 in the Prompt tab: save with the save bar, restore from the gallery, make it again."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from engine.png.chunks import read_png_metadata
from engine.png.record import KIND_STABLE_DIFFUSION
from engine.png.saving import default_output_folder
from tests.gui.conftest import wait_for_job
from tests.gui.prompt.test_prompt_tab import configure, prompt_tab


def gallery_of(window):
    from playground_gui.tabs.gallery.view import GalleryTab

    (tab,) = [window.tabs.widget(i) for i in range(window.tabs.count())
              if isinstance(window.tabs.widget(i), GalleryTab)]
    window.tabs.setCurrentWidget(tab)
    return tab


def test_save_restore_from_the_gallery_and_regenerate_the_same_image(qtbot, window, settings,
                                                                      tiny_folder):
    # The device is the window's (Device menu), not a control of the tab: let the engine say it.
    qtbot.waitUntil(lambda: window.engine_info is not None, timeout=60_000)
    tab = prompt_tab(window)
    configure(tab, tiny_folder, steps=2)
    tab.prompt_edit.setPlainText("a lighthouse, at night: stormy")
    tab.negative_edit.setPlainText("daylight")
    tab.scheduler_combo.setCurrentText("Euler ancestral")
    tab.guidance_spin.setValue(5.5)
    tab.random_seed.setChecked(False)
    tab.seed_spin.setValue(2024)
    assert not tab.save_bar.save_button.isEnabled()  # nothing to save yet
    name, result = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded", result
    original = tab.result_request

    (path,) = tab.save_bar.save_current()
    assert path.parent == default_output_folder() and path.name == "00001-2024.png"
    assert "Saved 00001-2024.png" in tab.save_bar.status.text()
    meta = read_png_metadata(path)
    assert meta.kind == KIND_STABLE_DIFFUSION and meta.parameters.sampler == "Euler a"
    assert settings.value("models/last/stable-diffusion") == tiny_folder

    # Change every control, then restore through the gallery's button.
    tab.prompt_edit.setPlainText("something else")
    tab.negative_edit.setPlainText("")
    for spin, value in ((tab.steps_spin, 9), (tab.guidance_spin, 1.0), (tab.width_spin, 128),
                        (tab.height_spin, 96), (tab.batch_size_spin, 2)):
        spin.setValue(value)
    tab.scheduler_combo.setCurrentText("DDIM")
    tab.random_seed.setChecked(True)
    tab.picker.set_location("someone/else")
    gallery = gallery_of(window)
    gallery.model.refresh()
    gallery.select_row(gallery.model.row_of(path))
    assert gallery.restore_button.text() == "Restore in “Prompt”"
    qtbot.mouseClick(gallery.restore_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is tab
    assert window.statusBar().currentMessage() == "Parameters restored."
    assert not tab.random_seed.isChecked() and tab.seed_spin.value() == 2024
    assert tab.build_request(tab.seed_value()) == original

    name, again = wait_for_job(qtbot, tab.generate(), timeout=120_000)
    assert name == "succeeded"
    assert np.array_equal(again.images[0], result.images[0])


def test_restoring_another_tools_parameters_and_what_cannot_be_restored(qtbot, window,
                                                                         tiny_folder):
    tab = prompt_tab(window)
    foreign = {"prompt": "a castle, on a hill", "negative_prompt": "fog", "steps": 20,
               "sampler": "DPM++ 2M", "schedule_type": "Karras", "cfg_scale": 7.0, "seed": 77,
               "width": 512, "height": 768, "model": "sd15-pruned", "extra": {"Model hash": "ab"}}
    assert window.restore(KIND_STABLE_DIFFUSION, {"foreign_parameters": foreign}) is False
    assert tab.prompt_edit.toPlainText() == "a castle, on a hill"
    assert tab.negative_edit.toPlainText() == "fog"
    assert (tab.steps_spin.value(), tab.guidance_spin.value()) == (20, 7.0)
    assert (tab.width_spin.value(), tab.height_spin.value()) == (512, 768)
    assert tab.scheduler_combo.currentText() == "DPM-Solver++ 2M Karras"
    assert not tab.random_seed.isChecked() and tab.seed_spin.value() == 77
    assert "sd15-pruned" in tab.status_label.text()  # the model is the user's to choose

    # Our own record of an img2img run: the input image is not in the PNG, so it says so, and a
    # pickle consent in a file is never taken over.
    tab.init_image = None
    record = {"prompt": "p", "mode": "img2img", "strength": 0.4, "seed": 2**32,
              "steps": 3, "scheduler": "UniPC",
              "source": {"location": tiny_folder, "config": None, "allow_pickle": True}}
    assert tab.restore_parameters(record) is False
    status = tab.status_label.text()
    assert "input image" in status and str(2**32) in status
    assert tab.mode == "img2img" and tab.strength_spin.value() == 0.4
    assert tab.scheduler_combo.currentText() == "UniPC"
    assert not tab.picker.allow_pickle.isChecked()
    # Seeds up to 2**32 − 1 (the CLI's random ones) fit the seed box.
    assert tab.restore_parameters({"prompt": "ok", "mode": "txt2img", "seed": 2**32 - 1}) is True
    assert tab.seed_value() == 2**32 - 1 and tab.build_request(tab.seed_value()).seed == 2**32 - 1


def test_the_last_model_is_remembered_across_restarts(qtbot, settings, tiny_folder):
    from playground_gui.main_window import MainWindow

    settings.setValue("models/last/stable-diffusion", tiny_folder)
    window = MainWindow(device="cpu", settings=settings)  # engine not started: no torch needed
    qtbot.addWidget(window)
    tab = prompt_tab(window)
    assert tab.picker.source().location == tiny_folder
    window.close()
