"""Issue 6 on the forward page: an exported frame restores source, schedule, t, seed and size."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.images import make_test_card
from engine.png.chunks import read_png_metadata
from engine.png.record import KIND_FORWARD
from tests.gui.forward.test_forward_page import page  # noqa: F401 (fixture)


def settled(page):  # noqa: F811
    session = page.session
    return session.renderer is not None and session.idle and session.pending_load is None


def test_exported_frame_restores_the_same_picture(qtbot, window, page, tmp_path):  # noqa: F811
    page.seed_spin.setValue(11)
    page.schedules.set_current_index(1)
    qtbot.waitUntil(lambda: settled(page) and page.session.result.seed == 11
                    and page.session.result.spec == page.schedules.current, timeout=90_000)
    page.slider.setValue(321)
    spec = page.session.result.spec
    page.export_frame(str(tmp_path / "frame.png"))
    expected = page.session.renderer.pixels(321).copy()
    meta = read_png_metadata(tmp_path / "frame.png")

    # Somewhere else entirely, then restore through the window (as the gallery does).
    page.load_source("coffee")
    page.seed_spin.setValue(99)
    page.schedules.set_current_index(0)
    page.size_spin.setValue(80)
    page.grayscale_check.setChecked(True)
    page.slider.setValue(5)
    session = page.session
    qtbot.waitUntil(lambda: settled(page) and session.loaded.source != "astronaut.jpg"
                    and session.result.seed == 99 and session.loaded.pixels.shape[2] == 1,
                    timeout=90_000)
    assert window.restore(meta.kind, meta.request) is True
    qtbot.waitUntil(lambda: settled(page) and session.loaded_request.source_key == "astronaut"
                    and session.loaded.pixels.shape[2] == 3 and session.result.seed == 11
                    and session.result.spec == spec, timeout=90_000)
    assert window.tabs.currentWidget().pages.currentWidget() is page
    assert page.slider.value() == 321 and page.size_spin.value() == 96
    assert not page.grayscale_check.isChecked()
    np.testing.assert_array_equal(page.session.renderer.pixels(321), expected)


def test_a_missing_user_file_is_reported_and_the_rest_restored(qtbot, window, page, tmp_path):  # noqa: F811
    path = tmp_path / "mine.png"
    Image.fromarray(make_test_card(64)).save(path)
    page.load_file(str(path))
    qtbot.waitUntil(lambda: settled(page) and page.session.loaded_request.path == str(path),
                    timeout=90_000)
    page.slider.setValue(200)
    page.export_frame(str(tmp_path / "frame.png"))
    request = read_png_metadata(tmp_path / "frame.png").request
    assert request["path"] == str(path) and request["source_key"] is None
    path.unlink()

    request = {**request, "seed": 5, "t": 40}
    assert window.restore(KIND_FORWARD, request) is False
    assert "no longer exists" in page.status_label.text()
    qtbot.waitUntil(lambda: settled(page) and page.session.result.seed == 5, timeout=90_000)
    assert page.slider.value() == 40 and page.seed_spin.value() == 5
    assert "no longer exists" in page.status_label.text()  # still said after the recompute


def test_a_frame_saved_by_an_earlier_version_with_t_as_steps_still_restores(qtbot, window, page,  # noqa: F811
                                                                            tmp_path):
    """Versions before the ``Timestep`` key wrote t as A1111's ``Steps: 589``; such files still
    restore t (from the JSON record), and their text still reads back."""
    from engine.forward.export import export_record
    from engine.png.a1111 import GenerationParameters
    from engine.png.saving import save_image_as
    from engine.schedules.types import ScheduleSpec

    spec = ScheduleSpec.preset("cosine")
    record = export_record(spec, 4, "astronaut.jpg", source_key="astronaut", working_size=96,
                           t=589)
    old_parameters = GenerationParameters(
        steps=589, schedule_type=spec.label, seed=4, width=64, height=64,
        version="diffusion-playground 0.1.0",
        extra={"Process": "forward", "Source": "astronaut.jpg", "Timesteps T": "1000"})
    path = tmp_path / "old.png"
    save_image_as(path, make_test_card(64), old_parameters, record, KIND_FORWARD)
    meta = read_png_metadata(path)
    assert "Steps: 589" in meta.parameters_text and meta.parameters.steps == 589

    assert window.restore(meta.kind, meta.request) is True
    qtbot.waitUntil(lambda: settled(page) and page.session.result.seed == 4
                    and page.session.result.spec == spec, timeout=90_000)
    assert page.slider.value() == 589 and page.t_spin.value() == 589


def test_values_the_controls_cannot_show_are_noted_and_the_rest_restored(qtbot, window, page,  # noqa: F811
                                                                         tmp_path):
    page.slider.setValue(100)
    page.export_frame(str(tmp_path / "frame.png"))
    request = read_png_metadata(tmp_path / "frame.png").request
    request = {**request, "seed": -3, "working_size": 5000, "grayscale": None, "t": 7}
    assert window.restore(KIND_FORWARD, request) is False
    assert "the seed -3" in page.status_label.text()
    assert "the working size 5000" in page.status_label.text()
    qtbot.waitUntil(lambda: settled(page) and page.slider.value() == 7, timeout=90_000)
    assert page.seed_spin.value() == 0 and page.session.result.seed == 0
    assert page.size_spin.value() == 96 and not page.grayscale_check.isChecked()
    assert "the working size 5000" in page.status_label.text()  # still said after the recompute
