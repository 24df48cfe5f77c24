"""The samplers users pick by name, built from the loaded pipeline's own scheduler config."""

from __future__ import annotations

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


def original_scheduler(pipe):
    """The scheduler the model came with (remembered the first time a sampler is swapped in)."""
    if not hasattr(pipe, "_playground_original_scheduler"):
        pipe._playground_original_scheduler = pipe.scheduler
    return pipe._playground_original_scheduler


def make_scheduler(name: str, pipe):
    """A fresh scheduler ``name`` configured like the model's own (betas, offsets, prediction)."""
    import diffusers

    base = original_scheduler(pipe)
    if name == "default":
        return type(base).from_config(base.config)
    class_name, overrides = SCHEDULERS[name]
    return getattr(diffusers, class_name).from_config(base.config, **overrides)
