"""Classifier-free guidance of the digits model, taken apart: both branches of every step.

ε̂ = ε̂(x, ∅) + g·(ε̂(x, digit) − ε̂(x, ∅)): the unconditional branch ("no class" token) and the
conditional one run as one UNet batch. ``guidance_branches`` returns the guided ε̂ with the two
branches, so a run can show them; with the defaults (no cut-off, rescale 0) the guided ε̂ is
computed exactly as ``sampling.guided_noise`` computes it, so the images do not change. The
cut-off and rescale options are the shared ones (engine/samplers/guidance.py).
"""

from __future__ import annotations

import numpy as np

from engine.digits.types import DIFFERENCE_DISPLAY_RANGE, GuidanceStep
from engine.images import to_uint8
from engine.samplers.guidance import rescale_guided, step_norms
from engine.samplers.x0_capture import alpha_bar_at, x0_from_model_output

NOISE_DISPLAY_RANGE = 3.0  # ε̂ is ~N(0, 1): ±3σ fills the grey range


def guidance_branches(unet, x_in, timestep, class_labels, guidance: float, null_class: int, *,
                      guided: bool = True, rescale: float = 0.0):
    """(guided ε̂, ε̂(∅) or None, ε̂(digit) or None) for one step.

    ``guided`` False (after the cut-off) runs the conditional branch alone; guidance 0 or no
    digit runs the unconditional branch alone, guidance 1 the conditional one alone.
    """
    import torch

    batch = x_in.shape[0]
    if class_labels is None or guidance == 0.0:
        labels = torch.full((batch,), null_class, dtype=torch.long, device=x_in.device)
        unconditional = unet(x_in, timestep, class_labels=labels).sample
        return unconditional, unconditional, None
    if guidance == 1.0 or not guided:
        conditional = unet(x_in, timestep, class_labels=class_labels).sample
        return conditional, None, conditional
    null = torch.full_like(class_labels, null_class)
    both = unet(torch.cat([x_in, x_in]), timestep, class_labels=torch.cat([class_labels, null])).sample
    conditional, unconditional = both.chunk(2)
    noise_pred = unconditional + guidance * (conditional - unconditional)
    return rescale_guided(noise_pred, conditional, rescale), unconditional, conditional


def guidance_step(scheduler, timestep, x_in, noise_pred, unconditional, conditional) -> GuidanceStep:
    """The step's branches as images (ε̂ from ±3, the difference from ±0.5, x̂₀ from ±1) and norms."""
    alpha_bar = alpha_bar_at(scheduler, timestep)
    kind = scheduler.config.get("prediction_type", "epsilon")

    def noise_image(eps, bound=NOISE_DISPLAY_RANGE):
        return None if eps is None else to_uint8(eps[:, 0], -bound, bound)

    def x0_image(eps):
        if eps is None or alpha_bar is None:
            return None
        return to_uint8(x0_from_model_output(eps, x_in, alpha_bar, kind)[:, 0],
                        -1.0, 1.0)

    difference = (None if unconditional is None or conditional is None
                  else conditional - unconditional)
    if conditional is None:  # an unconditional run: its one branch is ∅, not the digit
        norms = step_norms(None, unconditional, noise_pred).cpu().numpy().astype(np.float32)
        norms[[0, 1]] = norms[[1, 0]]
    else:
        norms = step_norms(unconditional, conditional, noise_pred).cpu().numpy().astype(np.float32)
    return GuidanceStep(noise_image(unconditional), noise_image(conditional),
                        noise_image(difference, DIFFERENCE_DISPLAY_RANGE),
                        x0_image(unconditional), x0_image(conditional), norms)
