"""The samplers users pick by name, built from the loaded pipeline's own scheduler config."""

from __future__ import annotations

from engine.stable_diffusion.loading import original_scheduler
from engine.stable_diffusion.types import SCHEDULER_NAMES

# name -> (diffusers class, config overrides). "default" keeps the model's own scheduler.
SCHEDULERS: dict[str, tuple[str, dict]] = {
    "DDIM": ("DDIMScheduler", {}),
    "DDPM": ("DDPMScheduler", {}),
    "PNDM": ("PNDMScheduler", {"skip_prk_steps": True}),
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "DPM-Solver++ 2M": ("DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False}),
    "DPM-Solver++ 2M Karras": ("DPMSolverMultistepScheduler",
                               {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                "use_karras_sigmas": True}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "LCM": ("LCMScheduler", {}),
}
assert set(SCHEDULERS) | {"default"} == set(SCHEDULER_NAMES)


def make_scheduler(name: str, pipe, steps: int | None = None):
    """A fresh scheduler ``name`` configured like the model's own (betas, offsets, prediction),
    able to run ``steps`` steps."""
    import diffusers

    base = original_scheduler(pipe)
    if name == "default":
        cls, overrides = type(base), {}
    else:
        class_name, overrides = SCHEDULERS[name]
        cls = getattr(diffusers, class_name)
    if cls.__name__ == "LCMScheduler" and steps:
        # LCM picks its steps from a grid of ``original_inference_steps`` (50 by default) and
        # refuses more steps than that grid has: widen the grid for longer runs.
        current = base.config.get("original_inference_steps", 50) or 50
        overrides = {**overrides, "original_inference_steps": max(int(current), int(steps))}
    return cls.from_config(base.config, **overrides)
