"""The samplers users pick by name, built by the sampler registry (engine/samplers/) from the
loaded pipeline's own scheduler config."""

from __future__ import annotations

from engine.errors import UserFacingError
from engine.samplers import builder
from engine.samplers.registry import get_sampler
from engine.samplers.x0_capture import is_flow_scheduler
from engine.stable_diffusion.denoiser_types import FLOW_ONLY_SCHEDULER_NAMES, FLOW_SCHEDULER_NAMES
from engine.stable_diffusion.loading import original_scheduler
from engine.stable_diffusion.prediction import ZERO_SNR_SETTINGS, zero_snr_problem
from engine.stable_diffusion.types import SCHEDULER_NAMES

# Every menu name is a registry sampler ("default" is the model's own scheduler).
assert all(get_sampler(name).name == name for name in SCHEDULER_NAMES)


def make_scheduler(name: str, pipe, steps: int | None = None, zero_snr: bool = False):
    """A fresh scheduler ``name`` configured like the model's own (betas, offsets, prediction,
    or a flow model's shift), able to run ``steps`` steps; ``zero_snr``: rescaled to zero
    terminal SNR with trailing timesteps (prediction.py), refused with the reason for ε-models,
    flow models and samplers without it."""
    base = original_scheduler(pipe)
    flow_model, flow_sampler = is_flow_scheduler(base), name in FLOW_ONLY_SCHEDULER_NAMES
    if name != "default" and flow_model != flow_sampler:
        if flow_model:
            raise UserFacingError(
                f"{name} is a sampler for noise-prediction (ε/v) models; this model is trained "
                "for flow matching (SD 3, Flux), which those samplers cannot step. Choose one of: "
                + ", ".join(FLOW_SCHEDULER_NAMES) + ".")
        raise UserFacingError(f"{name} is for flow-matching models (SD 3, Flux); this model "
                              "predicts noise. Choose another scheduler, e.g. default.")
    overrides = {}
    if zero_snr:
        if flow_model:
            raise UserFacingError(
                "Zero terminal SNR is a fix for noise-prediction schedules; a flow-matching model "
                "(SD 3, Flux) already starts from pure noise at t = 1.")
        cls = get_sampler(name).scheduler_class or type(base).__name__
        problem = zero_snr_problem(base.config.get("prediction_type", "epsilon"), cls, name)
        if problem:
            raise UserFacingError(problem)
        overrides = dict(ZERO_SNR_SETTINGS)
    if flow_sampler and not get_sampler(name).scheduler_class.startswith("FlowMatch"):
        overrides["flow_shift"] = float(base.config.get("shift", 1.0))  # the model's own σ shift
    return builder.make_scheduler(name, base, steps=steps, **overrides)
