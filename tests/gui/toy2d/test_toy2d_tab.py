"""2D toy tab: train a few hundred steps, sample, scrub, pause/resume, draw, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from engine.toy2d.types import DATASET_NAMES


@pytest.fixture
def tab(toy_tab):
    toy = toy_tab
    # Small and fast: DDIM with few steps and points.
    toy.sampler_combo.setCurrentIndex(1)
    toy.sample_steps_spin.setValue(20)
    toy.points_spin.setValue(300)
    return toy


def test_forward_slider_shows_the_noised_cloud(tab):
    assert tab.forward_slider.maximum() == len(tab.session.forward.timesteps) - 1
    tab.forward_slider.setValue(0)
    np.testing.assert_array_equal(tab.forward_scatter.getData()[0], tab.session.forward.data[:, 0])
    tab.forward_slider.setValue(tab.forward_slider.maximum())
    assert "t = 999" in tab.forward_label.text()
    x = tab.forward_scatter.getData()[0]
    assert abs(x.std() - 1) < 0.15  # pure noise at t = T−1


def test_train_sample_and_scrub(tab, qtbot, tmp_path):
    assert not tab.sample_button.isEnabled()  # nothing to sample before training
    tab.steps_spin.setValue(300)
    tab.train_button.click()
    assert tab.session.training and not tab.train_button.isEnabled()
    qtbot.waitUntil(lambda: tab.session.sample_result is not None, timeout=120_000)
    assert len(tab.session.losses) == 300 and tab.train_progress.value() == 300
    assert tab.session.losses[-50:].mean() < tab.session.losses[:20].mean()
    assert len(tab.loss_raw.getData()[0]) > 0
    assert "MMD" in tab.quality_label.text()
    trajectory = tab.session.sample_result.trajectory
    assert trajectory.shape == (21, 300, 2)

    tab.reverse_slider.setValue(0)  # scrub back to the noise
    np.testing.assert_array_equal(tab.sample_scatter.getData()[0], trajectory[0, :, 0])
    assert "t = 999" in tab.reverse_label.text()
    tab.reverse_slider.setValue(10)
    np.testing.assert_array_equal(tab.sample_scatter.getData()[1], trajectory[10, :, 1])
    trail_x = tab.trail_curve.getData()[0]
    assert len(trail_x) == tab.trails_spin.value() * 12  # 11 frames + a break per trail

    # The score field follows the scrubbed t.
    wanted_t = int(trajectory_t := tab.session.sample_result.timesteps[10])
    assert trajectory_t > 0
    qtbot.waitUntil(lambda: tab.field_t.get("reverse") == wanted_t, timeout=30_000)
    assert len(tab.reverse_field.getData()[0]) == 19 * 19 * 6  # shaft + 2 head strokes, 2 ends each

    tab.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not tab.play_button.isChecked(), timeout=20_000)
    assert tab.reverse_slider.value() == tab.reverse_slider.maximum()

    path = tmp_path / "model.safetensors"
    tab.save_model(str(path))
    tab.load_model(str(path))
    assert tab.session.model.steps_trained == 300


def test_pause_resume_and_stop(tab, qtbot):
    tab.steps_spin.setValue(50_000)
    tab.train_button.click()
    qtbot.waitUntil(lambda: len(tab.session.losses) >= 30, timeout=60_000)
    tab.pause_button.click()
    qtbot.waitUntil(lambda: tab.session.paused_state is not None, timeout=20_000)
    paused_at = tab.session.paused_state.steps_done
    assert tab.pause_button.text() == "Resume" and tab.train_button.isEnabled()
    assert tab.sample_button.isEnabled()  # a paused model can be looked at

    tab.pause_button.click()  # resume
    qtbot.waitUntil(lambda: len(tab.session.losses) >= paused_at + 30, timeout=60_000)
    assert tab.session.training
    tab.stop_button.click()
    qtbot.waitUntil(lambda: not tab.session.training, timeout=60_000)
    steps = tab.session.model.steps_trained
    assert paused_at + 30 <= steps < 50_000
    assert tab.session.paused_state is None and not tab.stop_button.isEnabled()
    # The bar and the sentence give the same count, and Stop stops: no sample starts by itself.
    assert tab.train_progress.value() == steps
    assert f"Stopped after {steps} steps" in tab.train_status.text()
    assert "Press Sample" in tab.train_status.text()
    qtbot.wait(300)
    assert not tab.session.sampling and tab.session.sample_result is None
    assert tab.sample_button.isEnabled()


def test_draw_your_own(tab, qtbot):
    tab.dataset_combo.setCurrentIndex(list(DATASET_NAMES).index("custom"))
    assert tab.forward_view_box.drawing
    tab.train_button.click()
    assert "at least 3 points" in tab.train_status.text() and not tab.session.training
    for x in np.linspace(-2, 2, 12):
        tab.forward_view_box.points_added.emit(np.array([[x, x * x / 2 - 1]]))
    spec = tab.session.dataset_spec(tab.dataset_name)
    assert spec.points.shape == (12, 2)
    qtbot.waitUntil(lambda: tab.session.forward is not None and len(tab.session.forward.data) and
                    not tab.session.forward_slot.busy and not tab._forward_timer.isActive(), timeout=30_000)
    data = tab.session.forward.data
    assert abs(data.var(axis=0).mean() - 1) < 0.1  # the drawing, normalised
    tab.clear_drawing()
    assert len(tab.drawn_scatter.getData()[0]) == 0


def test_training_queued_behind_another_job_says_what_it_waits_for(tab, qtbot, window):
    from tests.gui.test_engine_lifecycle import long_request

    qtbot.waitUntil(lambda: not window.engine.pending_jobs, timeout=120_000)
    slow = window.engine.submit(long_request(), "Long job", "Noise schedules")
    steps = []
    slow.progress.connect(steps.append)
    qtbot.waitUntil(lambda: bool(steps), timeout=60_000)
    tab.steps_spin.setValue(50)
    tab.train_button.click()
    assert tab.train_status.text().startswith("Waiting for Long job (Noise schedules) to finish")
    slow.cancel()
    qtbot.waitUntil(lambda: "Training…" in tab.train_status.text()
                    or "Trained" in tab.train_status.text(), timeout=60_000)
