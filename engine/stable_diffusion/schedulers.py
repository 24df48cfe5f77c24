"""The samplers users pick by name, built by the sampler registry (engine/samplers/) from the
loaded pipeline's own scheduler config."""

from __future__ import annotations

from engine.errors import UserFacingError
from engine.samplers import builder
from engine.samplers.registry import get_sampler
from engine.stable_diffusion.loading import original_scheduler
from engine.stable_diffusion.prediction import ZERO_SNR_SETTINGS, zero_snr_problem
from engine.stable_diffusion.types import SCHEDULER_NAMES

# Every menu name is a registry sampler ("default" is the model's own scheduler).
assert all(get_sampler(name).name == name for name in SCHEDULER_NAMES)


def make_scheduler(name: str, pipe, steps: int | None = None, zero_snr: bool = False):
    """A fresh scheduler ``name`` configured like the model's own (betas, offsets, prediction),
    able to run ``steps`` steps; ``zero_snr``: rescaled to zero terminal SNR with trailing
    timesteps (prediction.py), refused with the reason for ε-models and samplers without it."""
    base = original_scheduler(pipe)
    overrides = {}
    if zero_snr:
        cls = get_sampler(name).scheduler_class or type(base).__name__
        problem = zero_snr_problem(base.config.get("prediction_type", "epsilon"), cls, name)
        if problem:
            raise UserFacingError(problem)
        overrides = ZERO_SNR_SETTINGS
    return builder.make_scheduler(name, base, steps=steps, **overrides)
