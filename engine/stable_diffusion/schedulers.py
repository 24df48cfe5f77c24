"""The samplers users pick by name, built by the sampler registry (engine/samplers/) from the
loaded pipeline's own scheduler config."""

from __future__ import annotations

from engine.samplers import builder
from engine.samplers.registry import get_sampler
from engine.stable_diffusion.loading import original_scheduler
from engine.stable_diffusion.types import SCHEDULER_NAMES

# Every menu name is a registry sampler ("default" is the model's own scheduler).
assert all(get_sampler(name).name == name for name in SCHEDULER_NAMES)


def make_scheduler(name: str, pipe, steps: int | None = None):
    """A fresh scheduler ``name`` configured like the model's own (betas, offsets, prediction),
    able to run ``steps`` steps."""
    return builder.make_scheduler(name, original_scheduler(pipe), steps=steps)
