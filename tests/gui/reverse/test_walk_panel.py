"""Latent walks and variation seeds on the Reverse process page (issue 14 §3)."""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from engine.digits.outputs import request_record
from engine.digits.types import ReverseRequest, WalkRequest
from tests.gui.conftest import wait_for_job
from tests.gui.reverse.test_reverse_page import reverse_page


def single_image(qtbot, page, seed: int) -> np.ndarray:
    page.seed_spin.setValue(seed)
    name, result = wait_for_job(qtbot, page.start_run())
    assert name == "succeeded"
    return result.final_images[0]


def test_walk_endpoints_are_the_single_runs_and_the_frames_export(qtbot, window, tmp_path):
    page = reverse_page(window)
    page.label_combo.setCurrentIndex(page.label_combo.findData(2))
    page.steps_spin.setValue(4)
    page.batch_spin.setValue(1)
    page.seed_spin.setValue(3)
    panel = page.walk_page
    page.view_tabs.setCurrentWidget(panel)
    panel.seed_b_spin.setValue(5)
    panel.frames_spin.setValue(3)
    assert panel.seed_a_label.text().startswith("3 ")
    assert "exactly the single images" in panel.note.text()
    name, result = wait_for_job(qtbot, panel.start_walk())
    assert name == "succeeded" and len(result.frames) == 3
    frames = panel.frames_view.frames
    assert panel.frames_view.slider.maximum() == 2
    assert panel.frames_view.frame_label.text().startswith("frame 3/3 · seed 5")
    assert np.array_equal(frames[0], single_image(qtbot, page, 3))
    assert np.array_equal(frames[2], single_image(qtbot, page, 5))
    assert not np.array_equal(frames[1], frames[0]) and not np.array_equal(frames[1], frames[2])

    assert panel.frames_view.export(str(tmp_path / "walk.png"))
    with Image.open(tmp_path / "walk.png") as strip:
        assert strip.size == (3 * 64 + 2 * 2, 64)  # 16×16 frames shown 4× larger, 2 px apart
    assert panel.frames_view.export(str(tmp_path / "walk.gif"))
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 3
    assert not panel.frames_view.export(str(tmp_path / "walk.bmp"))
    assert ".png (a strip) or .gif" in panel.frames_view.export_status.text()

    panel.frames_view.slider.setValue(1)  # the middle frame's variation, made by Sample
    panel.use_shown_frame()
    assert page.current_request() == dataclasses.replace(result.frame_requests[1], record=True)
    name, again = wait_for_job(qtbot, page.start_run())
    assert np.array_equal(again.final_images[0], frames[1])

    page.sampler_combo.setCurrentIndex(page.sampler_combo.findData("euler_a"))
    assert "seed 3's per-step noise" in panel.note.text()  # the note follows the controls
    page.seed_spin.setValue(4)
    assert panel.seed_a_label.text().startswith("4 ") and "seed 4's" in panel.note.text()


def test_variation_fields_build_the_request_and_restore_from_a_record(qtbot, window):
    page = reverse_page(window)
    assert page.current_request().variation_seed is None
    page.variation_check.setChecked(True)
    page.variation_seed_spin.setValue(9)
    page.variation_strength_spin.setValue(0.25)
    request = page.current_request()
    assert (request.variation_seed, request.variation_strength) == (9, 0.25)

    # A walk frame's record: strength 1/7 must come back exactly (the spin box keeps doubles).
    frame = WalkRequest(label=4, seeds=(11, 12), frames=8, steps=5).frame_request(1)
    assert page.restore_parameters(request_record(frame)) is True
    assert page.variation_check.isChecked() and page.variation_seed_spin.value() == 12
    assert page.variation_strength_spin.value() == 1 / 7
    assert page.current_request() == ReverseRequest(**{**request_record(frame), "record": True})
    assert "0.142857" in page.variation_strength_spin.text()

    plain = request_record(ReverseRequest(label=1, steps=5, seed=2, batch_size=2))
    del plain["variation_seed"], plain["variation_strength"]  # as older records have it
    assert page.restore_parameters(plain) is True
    assert not page.variation_check.isChecked()
    assert page.current_request().variation_seed is None
