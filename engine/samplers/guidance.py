"""Classifier-free guidance's two options, shared by the digits model and Stable Diffusion.

- Cut-off: guidance runs for the first ⌈f·n⌉ of the n model calls only; after it the model is
  evaluated on the conditional input alone (the UNet batch halves) and its prediction is used
  as it is, as diffusers' ``SDCFGCutoffCallback`` does ("dynamic CFG").
- Rescale φ (Lin et al. 2023, "Common diffusion noise schedules and sample steps are flawed",
  §3.4): the guided prediction's standard deviation is pulled back towards the conditional
  prediction's, which tames the over-exposure of large guidance scales. diffusers' own
  ``rescale_noise_cfg`` does the arithmetic.
"""

from __future__ import annotations

import math

# The norms recorded at every step, in this order (see ``step_norms``).
NORM_NAMES = ("unconditional", "conditional", "difference", "guided")


def guided_steps(cutoff: float, model_calls: int) -> int:
    """How many of the first model calls use guidance at cut-off fraction ``cutoff``."""
    if cutoff >= 1.0:
        return model_calls
    return min(model_calls, max(0, math.ceil(cutoff * model_calls - 1e-9)))


def rescale_guided(guided, conditional, phi: float):
    """diffusers' ``rescale_noise_cfg``: per sample, guided·(std(cond)/std(guided)) mixed in
    by φ; ``guided`` itself when φ = 0."""
    if phi <= 0.0:
        return guided
    from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

    return rescale_noise_cfg(guided, conditional, guidance_rescale=phi)


def rms(tensor):
    """Root mean square per sample (B tensor), on the tensor's device: no host sync."""
    flat = tensor.detach().float().flatten(1)
    return flat.pow(2).mean(dim=1).sqrt()


def step_norms(unconditional, conditional, guided):
    """The RMS of ε̂(∅), ε̂(c), ε̂(c) − ε̂(∅) and the guided ε̂ (4×B, device tensor); NaN for the
    unconditional and the difference where no unconditional branch ran."""
    import torch

    cond = rms(conditional)
    if unconditional is None:
        missing = torch.full_like(cond, float("nan"))
        return torch.stack([missing, cond, missing, rms(guided)])
    return torch.stack([rms(unconditional), cond,
                        rms(conditional.float() - unconditional.float()), rms(guided)])
