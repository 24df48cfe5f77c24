"""The predicted clean sample x̂₀ of every sampler step: the one place that relies on how
diffusers' ``scheduler.step`` reports it (tests/engine/samplers/test_x0_capture.py pins it).

DDPM, DDIM, Euler, Euler ancestral, Heun and LMS return ``pred_original_sample`` and LCM ``denoised``
(with ``return_dict=False``: the second element of the tuple). The multistep solvers (PNDM,
DPM-Solver++, UniPC) return only the next sample; for them x̂₀ is computed from the model
output by inverting the forward process at ᾱ_t of the step's timestep, as those solvers do
internally:

- ε-prediction: x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε  ⇒  x̂₀ = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t
- v-prediction: x̂₀ = √ᾱ_t·x_t − √(1−ᾱ_t)·v̂;  sample-prediction: x̂₀ is the model output.

``x_t`` is the sample on the variance-preserving scale, i.e. the model input
(``scale_model_input``); for the multistep solvers that is the sample itself.

Flow matching (SD 3, Flux: FlowMatchEulerDiscreteScheduler, or DPM-Solver++/UniPC with
``use_flow_sigmas``): x_σ = (1 − σ)·x₀ + σ·ε and the model predicts v = ε − x₀, so
x̂₀ = x_σ − σ·v̂, at the σ of the step just taken. Written here by hand: FlowMatchEuler's ``step``
returns only the next sample, and the solvers compute it only inside their private
``convert_model_output``.
"""

from __future__ import annotations

import functools

import numpy as np

# What each diffusers class returns from ``step`` (pinned by the test against the library).
RETURNS_X0 = frozenset({"DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler",
                        "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler",
                        "LMSDiscreteScheduler",
                        "LCMScheduler"})
DERIVES_X0 = frozenset({"PNDMScheduler", "DPMSolverMultistepScheduler",
                        "UniPCMultistepScheduler"})
# Flow matching: derived as x_σ − σ·v̂ (DPM-Solver++/UniPC too when configured for flow).
FLOW_X0 = frozenset({"FlowMatchEulerDiscreteScheduler"})
_X0_FIELDS = ("pred_original_sample", "denoised")


def returned_x0(output, sample):
    """The x̂₀ a ``step`` output carries (an output object or a ``return_dict=False`` tuple), or
    None when the scheduler returns none."""
    if isinstance(output, tuple):
        if len(output) > 1 and getattr(output[1], "shape", None) == sample.shape:
            return output[1]
        return None
    for name in _X0_FIELDS:
        value = getattr(output, name, None)
        if value is not None:
            return value
    return None


def alpha_bar_at(scheduler, timestep) -> float | None:
    """ᾱ at ``timestep`` (interpolated between integer t, clamped to 0 … T−1), or None for a
    scheduler without ``alphas_cumprod``."""
    alphas_cumprod = getattr(scheduler, "alphas_cumprod", None)
    if alphas_cumprod is None:
        return None
    values = alphas_cumprod.cpu().double().numpy()  # (MPS has no float64)
    t = float(timestep.item() if hasattr(timestep, "item") else timestep)
    return float(np.interp(t, np.arange(len(values)), values))


def x0_from_model_output(model_output, x_t, alpha_bar: float, prediction_type: str = "epsilon"):
    """x̂₀ from the model's output at ᾱ_t = ``alpha_bar`` (float32 tensors in, float32 out)."""
    x_t, out = x_t.float(), model_output.float()
    if prediction_type == "v_prediction":
        return alpha_bar ** 0.5 * x_t - (1 - alpha_bar) ** 0.5 * out
    if prediction_type == "sample":
        return out
    return (x_t - (1 - alpha_bar) ** 0.5 * out) / alpha_bar ** 0.5


def alpha_bar_on_device(scheduler, timestep, tables: dict):
    """ᾱ at a tensor ``timestep`` as a 0-d tensor on its device, without a host sync (the
    pipeline runs ahead of a GPU; ``.item()`` would stall it every step). ``tables`` caches
    ``alphas_cumprod`` per device. Linear interpolation between integer t, clamped to 0 … T−1,
    as ``alpha_bar_at`` (written by hand: torch has no 1-D interp)."""
    alphas_cumprod = getattr(scheduler, "alphas_cumprod", None)
    if alphas_cumprod is None:
        return None
    device = timestep.device
    table = tables.get(device)
    if table is None or len(table) != len(alphas_cumprod):
        table = alphas_cumprod.to(device=device)  # once per device and run
        table = table.float() if device.type == "mps" else table.double()  # (MPS: no float64)
        tables[device] = table
    t = timestep.to(table.dtype).clamp(0, len(table) - 1)
    low = t.floor().long()
    high = (low + 1).clamp(max=len(table) - 1)
    return (table[low] + (table[high] - table[low]) * (t - low.to(table.dtype))).float()


def predicted_x0(scheduler, output, model_output, timestep, x_t, tables: dict | None = None):
    """(x̂₀, derived) for one step: the scheduler's own x̂₀ when it returns one (derived False),
    else computed from ``model_output`` (derived True); (None, True) when neither works.
    With ``tables`` (a cache) and a tensor ``timestep``, ᾱ is looked up on the device."""
    x0 = returned_x0(output, x_t)
    if x0 is not None:
        return x0.detach(), False
    if is_flow_scheduler(scheduler):
        return flow_x0(scheduler, model_output, x_t), True
    if tables is not None and hasattr(timestep, "device"):
        alpha_bar = alpha_bar_on_device(scheduler, timestep, tables)
    else:
        alpha_bar = alpha_bar_at(scheduler, timestep)
    if alpha_bar is None:
        return None, True
    kind = scheduler.config.get("prediction_type", "epsilon")
    return x0_from_model_output(model_output, x_t, alpha_bar, kind), True


def is_flow_scheduler(scheduler) -> bool:
    """Whether ``scheduler`` steps a flow-matching model (σ from 1 to 0, velocity output)."""
    config = scheduler.config
    return (type(scheduler).__name__.startswith("FlowMatch")
            or config.get("prediction_type") == "flow_prediction")


def flow_x0(scheduler, model_output, x_t):
    """x̂₀ = x_σ − σ·v̂ after ``step`` (which has moved ``step_index`` on by one), float32."""
    sigma = scheduler.sigmas[scheduler.step_index - 1]
    sigma = sigma.to(device=x_t.device, dtype=x_t.dtype if x_t.is_floating_point() else None)
    return x_t.float() - sigma.float() * model_output.float()


class PredictionCapture:
    """Wraps ``scheduler.step`` to keep the latest x̂₀ of the batch (``x0``), for samplers run
    inside a pipeline that calls ``step`` itself (Stable Diffusion). ``restore()`` unwraps."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.x0 = None
        self._tables: dict = {}  # alphas_cumprod per device (alpha_bar_on_device)
        self._original_step = original = scheduler.step

        # ``wraps`` keeps step's signature visible: pipelines pass ``generator`` (and ``eta``)
        # only when ``inspect.signature(scheduler.step)`` lists it, and without it the
        # stochastic samplers (Euler ancestral, DDPM, LCM) drew from the global RNG, so the
        # same seed gave a different image on every run.
        @functools.wraps(original)
        def step(model_output, timestep, sample, *args, **kwargs):
            output = original(model_output, timestep, sample, *args, **kwargs)
            self.x0 = predicted_x0(self.scheduler, output, model_output, timestep, sample,
                                   self._tables)[0]
            return output

        scheduler.step = step

    def restore(self) -> None:
        self.scheduler.step = self._original_step
