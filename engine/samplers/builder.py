"""The one place diffusers schedulers are built: a registry sampler, configured like a model's own.

Every model brings a scheduler config (its betas or beta schedule, T, prediction type, …); a
sampler is that config with another scheduler class and that sampler's overrides. Callers add
their model's own needs as keyword overrides: the digits model ``timestep_spacing="trailing"``,
the 2D toy its ``trained_betas``, clipping and ``set_alpha_to_one``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import numpy as np

from engine.samplers.registry import get_sampler


def make_scheduler(key: str, base, *, steps: int | None = None, **overrides):
    """A fresh scheduler for sampler ``key`` (a key, or a name as Stable Diffusion stores it).

    ``base`` is a scheduler config (a mapping) or a scheduler, whose config is used and whose
    class is the one of ``"default"`` (the model's own sampler). ``steps``: the number of steps
    it will run, for samplers whose config depends on it (LCM). ``overrides`` win over the
    sampler's own overrides, which win over ``base``.
    """
    from engine.runtime import import_torch

    import_torch()
    import diffusers

    sampler = get_sampler(key)
    if sampler.function:
        raise ValueError(f"{sampler.name} is our own sampler ({sampler.function}), not a "
                         "diffusers scheduler: call engine.samplers.builder.sampler_function")
    config = base.config if hasattr(base, "config") else base
    if not isinstance(config, Mapping):
        raise TypeError(f"base must be a scheduler config or a scheduler, not {type(base).__name__}")
    if sampler.scheduler_class is not None:
        cls = getattr(diffusers, sampler.scheduler_class)
    elif hasattr(base, "config"):
        cls = type(base)
    else:
        raise ValueError(f"the {sampler.name!r} sampler is the model's own: pass its scheduler")
    settings = {**sampler.overrides, **overrides}
    if cls.__name__ == "LCMScheduler" and steps:
        # LCM picks its steps from a grid of ``original_inference_steps`` (50 by default) and
        # refuses more steps than that grid has: widen the grid for longer runs.
        current = config.get("original_inference_steps", 50) or 50
        settings["original_inference_steps"] = max(int(current), int(steps))
    return cls.from_config(config, **settings)


def sampler_function(key: str):
    """The function of one of our own samplers ("module:function" resolved)."""
    sampler = get_sampler(key)
    if not sampler.function:
        raise ValueError(f"{sampler.name} is a diffusers scheduler: use make_scheduler")
    module_name, function_name = sampler.function.split(":")
    return getattr(importlib.import_module(module_name), function_name)


def noise_schedule(config: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """β_t and ᾱ_t (float64, t = 0 … T−1) of a scheduler config, as diffusers computes them
    (beta schedule, zero-SNR rescale included)."""
    scheduler = make_scheduler("ddpm", config)
    return scheduler.betas.double().numpy(), scheduler.alphas_cumprod.double().numpy()
