"""The 2D toy session without a window: forward view, pause/resume/stop, sampling, coalesced
fields, and the request ↔ controls table (read and restore)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from playground_gui.state import ScheduleSet
from playground_gui.tabs.toy2d import plots
from playground_gui.tabs.toy2d.binding import CONTROLS
from playground_gui.tabs.toy2d.session import Toy2DSession

SETTINGS = {"dataset": "two_moons", "steps": 50_000, "learning_rate": 1e-3, "seed": 0,
            "sampler": "ddim", "num_inference_steps": 5, "eta": 0.0, "num_points": 100,
            "model_kind": "trained", "training_points": 200, "langevin_steps": 10,
            "langevin_step_size": 1.0, "objective": "eps"}


@pytest.fixture
def session(engine):
    return Toy2DSession(engine, ScheduleSet())


def test_forward_view_follows_the_data_set(session, qtbot):
    with qtbot.waitSignal(session.forward_changed, timeout=60_000) as shown:
        session.update_forward(SETTINGS)
    assert shown.args[0] is session.forward and session.forward.data.shape == (1000, 2)
    assert len(session.forward.alphas_cumprod) == session.schedules.current.num_train_timesteps

    custom = dict(SETTINGS, dataset="custom")
    session.add_points(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="at least 3 points"):
        session.update_forward(custom)
    assert session.forward is None
    drawn = session.add_points(np.array([[1.0, 2.0], [3.0, 1.0]]))
    assert drawn.shape == (4, 2) and session.dataset_spec("custom").points.shape == (4, 2)
    session.clear_drawing()
    with pytest.raises(ValueError):
        session.dataset_spec("custom")


def test_pause_sample_resume_and_stop(session, qtbot):
    ended = []
    session.train_ended.connect(lambda outcome, payload: ended.append((outcome, payload)))
    request = session.start_training(SETTINGS)
    assert request.steps == 50_000 and request.resume is None and session.training
    assert session.start_training(SETTINGS) is None  # one run at a time
    assert session.start_sampling(SETTINGS) is None  # the engine thread is training
    qtbot.waitUntil(lambda: len(session.losses) >= 20, timeout=60_000)
    session.pause()
    qtbot.waitUntil(lambda: bool(ended), timeout=30_000)
    (outcome, paused), = ended
    assert outcome == "paused" and session.paused_state is paused and not session.training
    assert session.model is paused.model and len(session.losses) == paused.steps_done

    # A paused model can be sampled.
    with qtbot.waitSignal(session.samples_ready, timeout=60_000):
        assert session.start_sampling(SETTINGS) is not None
    assert session.sample_result.trajectory.shape[1:] == (100, 2)

    resumed = session.start_training(SETTINGS, resume=True)
    assert resumed.resume is paused and resumed.steps == 50_000
    assert len(session.losses) == paused.steps_done  # the curve continues, not reset
    qtbot.waitUntil(lambda: len(session.losses) >= paused.steps_done + 20, timeout=60_000)
    session.stop()
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=30_000)
    outcome, stopped = ended[1]
    assert outcome == "stopped" and session.paused_state is None and not session.training
    assert paused.steps_done + 20 <= stopped.steps_done < 50_000
    assert session.model is stopped.model and len(session.losses) == stopped.steps_done
    np.testing.assert_array_equal(session.losses[: paused.steps_done], paused.losses)
    assert not session.sampling  # Stop does not start a sample


def test_fields_coalesce_to_the_latest_t(session, qtbot):
    from engine.reporting import Reporter
    from engine.toy2d.training import run_train_job

    session.accept_model(run_train_job(session_train_request(), Reporter()).model)
    shown = []
    session.field_ready.connect(lambda canvas, result: shown.append((canvas, result.t)))
    for t in (100, 200, 300):
        session.request_field("forward", t)
    session.request_field("reverse", 7)
    qtbot.waitUntil(lambda: not any(slot.busy for slot in session.field_slots.values()),
                    timeout=60_000)
    # The first ran, 200 was overtaken by 300 while it waited; each plane has its own queue.
    assert [t for canvas, t in shown if canvas == "forward"] == [100, 300]
    assert [t for canvas, t in shown if canvas == "reverse"] == [7]


def session_train_request():
    from engine.toy2d.types import DatasetSpec, TrainRequest

    return TrainRequest(dataset=DatasetSpec("two_moons"), steps=5, seed=0)


def test_the_device_a_run_used_shows_when_the_engine_says(session):
    session._on_train_partial(SimpleNamespace(first_step=0, losses=np.ones(3, np.float32),
                                              total_steps=10, device="cuda"))
    assert session.train_device == "cuda" and len(session.losses) == 3
    session._on_train_partial(SimpleNamespace(first_step=3, losses=np.ones(2, np.float32),
                                              total_steps=10))  # an engine that does not say
    assert session.train_device == "cuda" and len(session.losses) == 5
    quality = SimpleNamespace(mmd=0.01, mmd_real_reference=0.001, nn_distance=0.1,
                              nn_distance_real_reference=0.05)
    result = SimpleNamespace(quality=quality, sampler="ddim", num_inference_steps=20,
                             real=np.zeros((300, 2)), start_note="", device="mps")
    assert "300 points on mps)" in plots.quality_text(result)
    del result.device
    assert "300 points)" in plots.quality_text(result)


def test_one_table_builds_the_requests_and_restores_the_controls(qtbot):
    from engine.toy2d.types import DATASET_NAMES, DatasetSpec
    from playground_gui.tabs.toy2d.binding import sample_request, train_request
    from playground_gui.tabs.toy2d.view import Toy2DView

    view = Toy2DView()
    qtbot.addWidget(view)
    settings = CONTROLS.read(view)
    assert set(settings) == set(SETTINGS)
    assert settings["dataset"] == "two_moons" and settings["steps"] == 10_000
    view.steps_spin.setValue(300)
    view.seed_spin.setValue(5)
    view.sampler_combo.setCurrentIndex(1)
    changed = CONTROLS.read(view)
    train = train_request(changed, DatasetSpec("circles"), ScheduleSet().current)
    assert (train.steps, train.seed, train.learning_rate) == (300, 5, 0.003)
    assert train.dataset.name == "circles"
    sample = sample_request(changed, model=None)
    assert (sample.sampler, sample.seed, sample.num_points) == ("ddim", 5, 1000)

    assert CONTROLS.restore(view, settings) == []
    assert CONTROLS.read(view) == settings
    notes = CONTROLS.restore(view, {"dataset": "circles", "steps": 5, "sampler": "lms"})
    assert view.dataset_combo.currentIndex() == list(DATASET_NAMES).index("circles")
    assert view.steps_spin.value() == 10_000 and view.sampler_combo.currentData() == "ddpm"
    assert len(notes) == 2 and "training steps" in notes[0] and "sampler" in notes[1]
