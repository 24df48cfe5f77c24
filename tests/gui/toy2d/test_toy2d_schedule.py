"""2D toy tab with the shared schedule on sigmoid + zero terminal SNR (issue 11 §1), a failed
sample, and the layout at laptop sizes (§5)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QScrollArea

from engine.schedules.types import ScheduleSpec
from engine.toy2d.types import DATASET_NAMES

SIGMOID_ZERO_SNR = ScheduleSpec.preset("sigmoid", 1000, rescale_zero_snr=True)


@pytest.fixture
def tab(toy_tab):
    toy = toy_tab
    toy.points_spin.setValue(200)
    return toy


def test_model_keeps_its_zero_snr_schedule_and_samples_it(window, tab, qtbot):
    window.schedules.set_current_spec(SIGMOID_ZERO_SNR)
    assert "sigmoid" in tab.schedule_label.text() and "zero-SNR" in tab.schedule_label.text()
    tab.sampler_combo.setCurrentIndex(1)  # DDIM: raised NotImplementedError for sigmoid
    tab.sample_steps_spin.setValue(10)
    tab.steps_spin.setValue(20)

    def positions():  # where the controls below each caption sit in the column
        return [w.mapTo(tab, w.rect().topLeft()).y()
                for w in (tab.train_button, tab.sampler_combo, tab.sample_button, tab.explanation)]

    before = positions()
    tab.train_button.click()
    qtbot.waitUntil(lambda: tab.session.sample_result is not None, timeout=60_000)
    assert np.isfinite(tab.session.sample_result.trajectory).all()
    readout = tab.quality_label.text()
    assert "MMD" in readout and "nan" not in readout and "Started at t = 998" in readout
    # Captions changed (status, model, "Sampling…" to the quality readout): nothing moved.
    assert positions() == before

    # Reset on the schedules tab: the shared schedule is linear again, the model keeps its own.
    window.schedules.reset()
    assert tab.schedule_label.text().startswith("linear")
    assert "sigmoid" in tab.model_label.text() and "zero-SNR" in tab.model_label.text()
    assert tab.session.model.schedule == SIGMOID_ZERO_SNR
    assert positions() == before
    tab.sampler_combo.setCurrentIndex(0)  # DDPM: gave NaN
    assert tab.sample_steps_spin.value() == 999  # the model's steps, not the shared T
    tab.sample_steps_spin.setValue(20)
    previous = tab.session.sample_result
    tab.sample_button.click()
    qtbot.waitUntil(lambda: tab.session.sample_result is not previous, timeout=60_000)
    assert tab.session.sample_result.sampler == "ddpm" and tab.session.sample_result.start_t == 998
    assert np.isfinite(tab.session.sample_result.trajectory).all()
    assert "nan" not in tab.quality_label.text()


def test_failed_sampling_replaces_sampling_message(tab, qtbot, tmp_path):
    from engine.toy2d.storage import save_model
    from engine.toy2d.types import ToyModel

    # A model file whose weights do not fit its configuration: it loads, sampling fails.
    damaged = tmp_path / "damaged.safetensors"
    save_model(ToyModel(weights={"net.0.weight": np.zeros((3, 3), np.float32)}), damaged)
    tab.load_model(str(damaged))
    assert tab.quality_label.text() == "Sampling…"
    qtbot.waitUntil(lambda: not tab.session.sampling, timeout=60_000)
    assert "Sampling failed" in tab.quality_label.text()
    assert "weights do not match" in tab.quality_label.text()


def test_layout_fits_laptop_screens(window, tab, qtbot):
    scroll = tab.findChild(QScrollArea)
    for size in ((1280, 720), (1366, 768)):
        window.resize(*size)
        qtbot.waitUntil(lambda size=size: window.width() == size[0], timeout=5_000)
        # The control column fits its width: no horizontal scroll bar, nothing cut off.
        assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width()
        # The t readout is one line whose width does not depend on its text: the slider keeps
        # its length while scrubbing (the readout wrapped and squeezed the slider before).
        slider_width = tab.forward_slider.width()
        for index in (0, 1, tab.forward_slider.maximum()):
            tab.forward_slider.setValue(index)
            qtbot.wait(20)
            assert not tab.forward_label.wordWrap()
            assert tab.forward_slider.width() == slider_width


def test_drawing_with_the_mouse_adds_points(tab, qtbot):
    tab.dataset_combo.setCurrentIndex(list(DATASET_NAMES).index("custom"))
    view = tab.forward_plot
    view_box = tab.forward_view_box

    def widget_point(x, y):
        scene = view_box.mapViewToScene(QPointF(x, y))
        return view.mapFromScene(scene)

    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=widget_point(0.5, 0.5))
    qtbot.waitUntil(lambda: len(tab.session.drawn_points) == 1, timeout=5_000)
    np.testing.assert_allclose(tab.session.drawn_points[0][0], [0.5, 0.5], atol=0.1)
    # A stroke: press, move in steps, release. Points follow the mouse.
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=widget_point(-2, -1))
    for x in np.linspace(-2, 2, 15):
        QTest.mouseMove(view.viewport(), widget_point(x, x / 2))
        qtbot.wait(10)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=widget_point(2, 1))
    drawn = np.concatenate(tab.session.drawn_points)
    assert len(drawn) >= 8
    assert drawn[:, 0].min() < -1.5 and drawn[:, 0].max() > 1.5
    np.testing.assert_allclose(drawn[1:, 1], drawn[1:, 0] / 2, atol=0.15)
    assert tab.session.dataset_spec(tab.dataset_name).points.shape == drawn.shape
