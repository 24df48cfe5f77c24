"""Step wording of the Prompt tab: a recording thinned to its memory budget names real steps."""

from __future__ import annotations

from engine.stable_diffusion.types import GenerationResult
from playground_gui.tabs.prompt.steps import step_position


def result(recorded_steps=(), steps=8, calls=8) -> GenerationResult:
    return GenerationResult(images=(), seeds=(1,), parameters={"steps": steps, "mode": "txt2img"},
                            timesteps=(), requested_steps=steps, model_calls=calls,
                            recorded_steps=recorded_steps)


def test_the_slider_position_maps_to_the_recorded_step_number():
    thinned = result(recorded_steps=(1, 3, 5, 7, 8))
    assert step_position(thinned, 2) == "step 3/8"
    assert step_position(thinned, 5) == "step 8/8"
    assert step_position(result(), 2) == "step 2/8"  # every step recorded


def test_pndm_positions_count_model_calls():
    assert step_position(result(steps=25, calls=26), 3) == "model call 3/26 of 25 steps"
