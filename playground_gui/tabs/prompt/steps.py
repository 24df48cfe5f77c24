"""How a Stable Diffusion run's steps and device are put into words (widget-free).

The steps a user asks for and the model calls a scheduler makes can differ: img2img and inpaint
run strength × steps of them, and PNDM calls the UNet once more than it has steps. Captions and
status lines say both when they differ.
"""

from __future__ import annotations


def requested_steps(result) -> int:
    """Denoising steps the user asked for in one pipeline call (img2img and inpaint run
    strength × steps of them)."""
    parameters = result.parameters
    return requested_steps_of(int(parameters["steps"]), parameters.get("mode"),
                              float(parameters.get("strength", 1.0)))


def requested_steps_of(steps: int, mode: str | None, strength: float) -> int:
    if mode in ("img2img", "inpaint"):
        return max(1, min(int(steps * strength), steps))
    return steps


def model_calls(result) -> int:
    """UNet calls of one pipeline call (PNDM makes 26 for 25 steps), as the engine counted them."""
    return result.model_calls or requested_steps(result)


def steps_phrase(result) -> str:
    """"25 steps", or "25 steps (26 model calls)" when the scheduler calls the model more often."""
    steps, calls = requested_steps(result), model_calls(result)
    text = f"{steps} step{'s' if steps != 1 else ''}"
    return text if calls in (0, steps) else f"{text} ({calls} model calls)"


def step_position(result, position: int) -> str:
    """Where the slider stands: "step 3/25", or "model call 3/26 of 25 steps". ``position`` is
    the slider's (the n-th recorded step); a recording thinned to its memory budget keeps only
    some steps, so the step number comes from the result."""
    step = result.step_number(position)
    steps, calls = requested_steps(result), model_calls(result)
    if calls in (0, steps):
        return f"step {step}/{steps}"
    return f"model call {step}/{calls} of {steps} steps"


def preview_position(preview, requested: int | None) -> str:
    """A live preview's place: "step 3/25", or "model call 3/26 of 25 steps"."""
    steps = requested if requested is not None else preview.total_steps
    if steps == preview.total_steps:
        return f"step {preview.step}/{steps}"
    return f"model call {preview.step}/{preview.total_steps} of {steps} steps"


def device_phrase(result) -> str:
    """Where the run computed, as its caption says it: "CPU float32", "CUDA float16" (the UNet's
    precision; the VAE's too when it differs). Empty when the result does not say."""
    info = getattr(result, "model_info", None)
    if info is None or not info.device:
        return ""
    text = f"{info.device.upper()} {info.dtype}"
    if info.vae_dtype and info.vae_dtype != info.dtype:
        text += f" (VAE {info.vae_dtype})"
    return text
