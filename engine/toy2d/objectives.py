"""Training objectives of the 2D toy: what the network predicts, and how to get x̂₀ and ε̂ back.

The DDPM family shares x_t = √ᾱ·x₀ + √(1−ᾱ)·ε and differs only in the regression target:

    eps: ε                                   (Ho et al. 2020)
    x0:  x₀                                  (diffusers' prediction_type "sample")
    v:   v = √ᾱ·ε − √(1−ᾱ)·x₀                (Salimans & Ho 2022; diffusers' ``get_velocity``)

Each determines the others given x_t, so a sampler only needs to know which one it gets
(diffusers' ``prediction_type``). Where ᾱ = 0 (zero terminal SNR, the last step) only ε cannot
give x̂₀ = (x_t − √(1−ᾱ)·ε̂)/√ᾱ: x₀- and v-prediction stay finite there (x̂₀ = −v̂ at ᾱ = 0).

Flow matching (rectified flow, Liu et al. 2022; Lipman et al. 2022) uses another path,
x_t = (1−t)·x₀ + t·ε with t ∈ [0, 1], and regresses the velocity dx_t/dt = ε − x₀; sampling
integrates that ODE from t = 1 (noise) to 0 (diffusers' FlowMatchEuler/Heun schedulers).

The formulas are written for anything with arithmetic and ``** 0.5`` (numpy arrays, torch
tensors, floats), so this module is torch-free: the CLI and the GUI call ``check_combination``.
"""

from __future__ import annotations

from engine.toy2d.types import (
    DDPM_FAMILY,
    FLOW_SAMPLERS,
    LANGEVIN_SAMPLERS,
    OBJECTIVES,
    SAMPLERS,
    TOY_SAMPLERS,
)

#: diffusers' ``prediction_type`` of each DDPM-family objective.
PREDICTION_TYPES = {"eps": "epsilon", "x0": "sample", "v": "v_prediction"}


def check_combination(objective: str, sampler: str, zero_snr: bool) -> str | None:
    """A sentence saying why ``objective`` cannot sample with ``sampler`` (with ``zero_snr``,
    the schedule rescaled to zero terminal SNR), or None when the combination makes sense."""
    if objective not in OBJECTIVES:
        return f"Unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}."
    if sampler not in TOY_SAMPLERS:
        return f"Unknown sampler {sampler!r}; choose one of {', '.join(TOY_SAMPLERS)}."
    if objective == "flow":
        if zero_snr:
            return ("Flow matching has no noise schedule to rescale: its path x_t = (1−t)·x₀ + "
                    "t·ε already reaches pure noise at t = 1, so --zero-snr makes no sense with "
                    "it.")
        if sampler in LANGEVIN_SAMPLERS:
            return (f"{sampler} runs Langevin steps on the score ∇log p_t at the noise levels of "
                    f"the DDPM family's schedule (ᾱ_t); a flow-matching model learns a velocity "
                    f"on another path and has no such levels. Use {' or '.join(FLOW_SAMPLERS)}.")
        if sampler not in FLOW_SAMPLERS:
            return (f"Flow matching integrates the ODE dx/dt = ε − x₀ from t = 1 to 0; "
                    f"{sampler} is a sampler of the DDPM family's schedule (ᾱ_t), which a "
                    f"flow-matching model does not have. Use {' or '.join(FLOW_SAMPLERS)}.")
    elif sampler not in SAMPLERS:  # every toy sampler serves the DDPM family today
        return (f"{sampler} is offered for flow matching only; a model trained for "
                f"{OBJECTIVES[objective]} samples with {', '.join(SAMPLERS)}.")
    return None


def is_ddpm_family(objective: str) -> bool:
    return objective in DDPM_FAMILY


# -- the DDPM family ----------------------------------------------------------------------------
def target(objective: str, x0, noise, alpha_bar):
    """The regression target of ``objective`` for x_t = √ᾱ·x0 + √(1−ᾱ)·noise (``alpha_bar``
    broadcastable against x0)."""
    if objective == "eps":
        return noise
    if objective == "x0":
        return x0
    if objective == "v":
        return alpha_bar ** 0.5 * noise - (1 - alpha_bar) ** 0.5 * x0
    raise ValueError(f"{objective!r} is not a DDPM-family objective")


def predicted_x0(objective: str, output, x_t, alpha_bar):
    """x̂₀ from the network's ``output``. For ε it divides by √ᾱ (infinite at ᾱ = 0)."""
    if objective == "eps":
        return (x_t - (1 - alpha_bar) ** 0.5 * output) / alpha_bar ** 0.5
    if objective == "x0":
        return output
    if objective == "v":
        return alpha_bar ** 0.5 * x_t - (1 - alpha_bar) ** 0.5 * output
    raise ValueError(f"{objective!r} is not a DDPM-family objective")


def predicted_epsilon(objective: str, output, x_t, alpha_bar):
    """ε̂ from the network's ``output`` (for the score −ε̂/√(1−ᾱ), Langevin, the field). For x₀
    it divides by √(1−ᾱ), which is above 0 at every t ≥ 0 of a DDPM schedule."""
    if objective == "eps":
        return output
    if objective == "x0":
        return (x_t - alpha_bar ** 0.5 * output) / (1 - alpha_bar) ** 0.5
    if objective == "v":
        return alpha_bar ** 0.5 * output + (1 - alpha_bar) ** 0.5 * x_t
    raise ValueError(f"{objective!r} is not a DDPM-family objective")


# -- flow matching ------------------------------------------------------------------------------
def flow_noised(x0, noise, t):
    """x_t = (1−t)·x₀ + t·ε (t broadcastable against x0; t = 1 is pure noise)."""
    return (1 - t) * x0 + t * noise


def flow_target(x0, noise):
    """The velocity dx_t/dt = ε − x₀ (the same at every t: the paths are straight lines)."""
    return noise - x0


def flow_x0_and_epsilon(velocity, x_t, t):
    """x̂₀ = x_t − t·v̂ and ε̂ = x_t + (1−t)·v̂ from the predicted velocity."""
    return x_t - t * velocity, x_t + (1 - t) * velocity
