"""The Reverse page's session without a window: a real engine, a 2-step DDIM run of the
embedded digits model, and the scrubbing, captions and save items it yields."""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.digits.types import GuidanceSweepRequest, InversionRequest, ReverseRequest
from playground_gui.tabs.reverse.session import SLIDER_RESOLUTION, ReverseSession, RunRecord


def test_a_two_step_ddim_run_records_every_step_and_scrubs(qtbot, engine):
    session = ReverseSession(engine)
    running, live = [], []
    session.running_changed.connect(running.append)
    session.steps_recorded.connect(lambda: live.append(len(session.runs[0].timesteps)))
    request = ReverseRequest(label=7, sampler="ddim", steps=2, seed=3, batch_size=2)
    with qtbot.waitSignal(session.run_done, timeout=60_000):
        job = session.start_run(request)
        assert job is not None and session.busy
        assert session.start_run(request) is None  # one job at a time
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    assert running == [True, False]
    assert live == [1, 2]  # both steps arrived live, before the result replaced them

    (run,) = session.finished_runs
    assert run.positions == 3 and run.total == 2  # two steps and the final sample
    assert session.slider_maximum() == 2 and session.live_value() == 2
    ((row, (x_t, eps, x0, caption)),) = session.frames(0)
    assert row == 0 and x_t.shape == eps.shape == x0.shape == (2, 16, 16)
    assert caption.startswith("step 1/2 · t = ")
    assert session.step_text(2, session.frames(2)) == "final sample, after 2 steps"
    assert np.array_equal(session.frames(2)[0][1][0], run.result.final_images)

    title = run.title()
    assert "DDIM" in title and "2 steps" in title and "digit 7" in title and "wall time" in title
    device = getattr(run.result, "device", "")
    assert (f"on {device.upper()}" in title) if device else " on " not in title
    assert session.done_text().startswith("Done. Wall time ddim 2 steps: ")

    items = session.all_sample_items()  # (64×64 picture, parameters, record) per sample
    assert [item[0].shape[:2] for item in items] == [(64, 64), (64, 64)]
    assert [item[1].extra["Batch index"] for item in items] == ["0", "1"]
    for number, index in ((1, 0), (2, 1), (99, 1)):  # past the batch: the last sample
        ((picture, parameters, _),) = session.chosen_sample_items(number)
        assert np.array_equal(picture, items[index][0]) and parameters == items[index][1]


def test_sweep_and_inversion_results_are_kept(qtbot, engine):
    session = ReverseSession(engine)
    with qtbot.waitSignal(session.sweep_done, timeout=60_000):
        session.start_sweep(GuidanceSweepRequest(label=2, scales=(0.0, 3.0), steps=2, batch_size=1))
    assert session.sweep.scales == (0.0, 3.0) and len(session.sweep.images) == 2
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    with qtbot.waitSignal(session.inversion_done, timeout=60_000):
        session.start_inversion(InversionRequest(example_index=5, steps=2))
    assert session.inversion.original.shape == session.inversion.reconstruction.shape == (16, 16)
    assert session.runs == []  # neither touched the sampling run


def test_compare_scrubbing_moves_both_runs_by_fraction():
    first = ReverseRequest(steps=4, batch_size=1)
    session = ReverseSession(engine=None)
    session.runs = [RunRecord(first), RunRecord(dataclasses.replace(first, steps=8))]
    for run in session.runs:  # as if both finished: steps + the final sample
        steps = run.request.steps
        run.x_t = run.noise_pred = run.pred_original = [np.zeros((1, 2, 2), np.uint8)] * (steps + 1)
        run.timesteps = [float(999 - i) for i in range(steps)]
        run.total = steps
        run.result = object()
    assert session.compare_mode and session.slider_maximum() == SLIDER_RESOLUTION
    captions = [view[3] for _, view in session.frames(SLIDER_RESOLUTION // 2)]
    assert captions[0].startswith("step 3/4") and captions[1].startswith("step 5/8")
    assert session.step_text(SLIDER_RESOLUTION // 2, []) == "50% of each run"


def test_the_caption_names_the_device_when_the_engine_reports_it():
    @dataclasses.dataclass
    class Result:  # what a ReverseResult gives the caption
        wall_seconds: float = 0.5
        device: str = "cuda"

    run = RunRecord(ReverseRequest(steps=3))
    run.result = Result()
    assert "wall time 0.50 s on CUDA" in run.title()
    run.result = Result(device="")
    assert run.title().endswith("wall time 0.50 s")
