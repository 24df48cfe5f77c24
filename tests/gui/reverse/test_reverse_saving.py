"""Reverse page: save samples with the save bar, restore a saved PNG, regenerate the same pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from engine.digits.types import ReverseRequest
from engine.png.chunks import read_png_metadata
from engine.png.record import KIND_DIGITS
from tests.gui.conftest import wait_for_job
from tests.gui.reverse.test_reverse_page import reverse_page


def test_saved_sample_restores_every_control_and_regenerates_it(qtbot, window):
    page = reverse_page(window)
    assert not page.save_bar.save_button.isEnabled()  # nothing to save before a run
    page.label_combo.setCurrentIndex(page.label_combo.findData(2))
    page.guidance_spin.setValue(2.5)
    page.sampler_combo.setCurrentIndex(page.sampler_combo.findData("ddim"))
    page.steps_spin.setValue(4)
    page.eta_spin.setValue(0.7)  # stochastic: the seed matters
    page.seed_spin.setValue(321)
    page.batch_spin.setValue(3)
    original = page.current_request()
    name, first = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded"
    assert page.save_bar.save_button.isEnabled()
    assert page.sample_spin.maximum() == 3

    paths = page.save_bar.save_all()
    assert [p.name for p in paths] == ["00001-321.png", "00002-321.png", "00003-321.png"]
    assert all(p.parent == page.save_bar.folder for p in paths)
    page.sample_spin.setValue(2)
    assert page.row_views[0][0].highlighted == 1  # the chosen sample is outlined in the grid
    with qtbot.waitSignal(page.save_bar.saved):  # written on the save bar's writer thread
        qtbot.mouseClick(page.save_bar.save_button, Qt.MouseButton.LeftButton)
    chosen = sorted(page.save_bar.folder.glob("*.png"))[-1]
    assert chosen.name == "00004-321.png"
    metadata = read_png_metadata(chosen)
    assert metadata.kind == KIND_DIGITS
    assert metadata.parameters.extra["Batch index"] == "1"
    assert metadata.parameters.prompt == "digit 2" and metadata.parameters.cfg_scale == 2.5
    assert read_png_metadata(paths[1]).parameters_text == metadata.parameters_text

    # Move every control away, then restore from the PNG's record through the window.
    page.label_combo.setCurrentIndex(0)
    page.guidance_spin.setValue(0.0)
    page.sampler_combo.setCurrentIndex(page.sampler_combo.findData("euler_a"))
    page.steps_spin.setValue(9)
    page.seed_spin.setValue(1)
    page.batch_spin.setValue(8)
    page.compare_check.setChecked(True)
    assert page.current_request() != original
    assert window.restore(metadata.kind, metadata.request) is True
    assert window.tabs.currentWidget().pages.currentWidget() is page
    assert page.current_request() == original
    assert not page.compare_check.isChecked()
    assert "Restored" in page.status_label.text()

    name, second = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded"
    assert np.array_equal(second.samples, first.samples)
    assert np.array_equal(second.final_images, first.final_images)


def test_restore_reports_what_it_could_not_set(qtbot, window):
    page = reverse_page(window)
    request = {"label": None, "guidance": 30.0, "sampler": "ddpm", "steps": 7, "eta": 0.0,
               "seed": 5, "batch_size": 2, "model_dir": None, "record": False}
    assert page.restore_parameters(request) is False  # guidance 30 is past the spin box
    assert page.label_combo.currentData() is None and page.steps_spin.value() == 7
    assert "clipped" in page.status_label.text()
    assert page.restore_parameters({**request, "guidance": 3.0}) is True
    assert page.current_request() == ReverseRequest(**{**request, "guidance": 3.0, "record": True})
    assert page.restore_parameters({"steps": "many"}) is False  # bad values: a message, no crash
    assert "Could not restore" in page.status_label.text()
