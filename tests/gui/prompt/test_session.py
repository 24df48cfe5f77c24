"""The Prompt tab's session without a window: a real EngineClient (worker thread) and the tiny
random-weight pipeline."""

from __future__ import annotations

import pytest

from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions
from playground_gui.tabs.prompt.session import PromptSession, comparison_values


@pytest.fixture
def session(qtbot, engine):  # noqa: F811
    session = PromptSession(engine)
    yield session
    session.deleteLater()


def request(folder: str, **changes) -> GenerationRequest:
    values = dict(prompt="a photo of a cat", source=ModelSource(folder),
                  options=PipelineOptions(device="cpu"), steps=3, width=64, height=64, seed=11,
                  scheduler="Euler")
    values.update(changes)
    return GenerationRequest(**values)


def record(signal) -> list:
    seen = []
    signal.connect(lambda *args: seen.append(args if len(args) != 1 else args[0]))
    return seen


def test_a_run_then_scrubbing_decodes_only_the_newest_frame_wanted(qtbot, session, tiny_folder):
    statuses, shown = record(session.status), record(session.result_changed)
    finished = record(session.run_finished)
    run = request(tiny_folder)
    job = session.generate(run)
    assert job is not None
    assert session.generate(run) is None  # one run at a time
    qtbot.waitUntil(lambda: bool(finished), timeout=120_000)
    (result,) = shown
    assert session.result is result and session.result_request == run
    assert result.images[0].shape == (64, 64, 3) and session.recorded_steps(0) == 3
    assert statuses[-1][0].startswith("Done: 1 image(s), 3 steps in ")

    # One decode runs; of the frames wanted meanwhile only the newest follows it.
    decoded = record(session.frame_decoded)
    for key in ((0, 1, "x0"), (0, 2, "x0"), (0, 1, "xt")):
        session.want_frame(key)
    qtbot.waitUntil(lambda: len(decoded) == 2, timeout=60_000)
    qtbot.waitUntil(lambda: not session._decode.busy, timeout=60_000)
    assert decoded == [(0, 1, "x0"), (0, 1, "xt")]
    assert set(session.frames) == {(0, 1, "x0"), (0, 1, "xt")}
    assert session.frames[(0, 1, "x0")].shape == (64, 64, 3)
    session.want_frame((0, 1, "x0"))  # cached: no job
    assert not session._decode.busy
    assert session.shown_save_items()[0].parameters.seed == 11


def test_cancel_keeps_the_steps_done_and_decodes_the_unfinished_image(qtbot, session,
                                                                       tiny_folder):
    statuses, shown = record(session.status), record(session.result_changed)
    job = session.generate(request(tiny_folder, steps=150))
    session.run_step.connect(lambda preview, position: session.cancel())
    qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    (partial,) = shown
    assert partial.cancelled and len(partial.images) == 1 and partial.seeds == (11,)
    (recorded,) = partial.step_latents
    assert 1 <= partial.steps_done < 150 and partial.steps_done == recorded.shape[0]
    assert session.recorded_steps(0) == partial.steps_done
    texts = [text for text, _error in statuses]
    assert "Cancelling… (the model stops within its current step)" in texts
    assert texts[-1].startswith(f"Cancelled after {partial.steps_done} model call(s) of 150 steps")
    assert job.done and session.running is None


def test_tokens_coalesce_to_the_newest_prompt(qtbot, session, tiny_folder):
    seen = record(session.tokens_ready)
    source = ModelSource(tiny_folder)
    for prompt in ("cat", "a cat", "a red cat"):
        session.request_tokens(prompt, source)
    qtbot.waitUntil(lambda: len(seen) == 2 and not session._tokens.busy, timeout=60_000)
    assert [info.count for info in seen] == [1, 3]  # "a cat" was superseded while "cat" ran

    # Typing waits for a pause: three changes, one job.
    for prompt in ("a", "a d", "a dog"):
        session.tokens_wanted(prompt, source)
    assert not session._tokens.busy
    qtbot.waitUntil(lambda: len(seen) == 3 and not session._tokens.busy, timeout=60_000)
    assert seen[-1].count == 2 and seen[-1].tokens[-1].startswith("dog")
    assert not session._token_timer.isActive() and not session._tokens.has_queued


def test_comparison_values_are_checked():
    assert comparison_values("steps", "5, 10,") == (5, 10)
    assert comparison_values("guidance_scale", "1, 7.5") == (1.0, 7.5)
    with pytest.raises(ValueError, match="Nonsense"):
        comparison_values("scheduler", "DDIM, Nonsense")
    with pytest.raises(ValueError, match="comma-separated"):
        comparison_values("steps", " , ")
