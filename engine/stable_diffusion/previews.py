"""Cheap per-step previews: the predicted clean latent x̂₀, shown through a linear latent→RGB map.

A full VAE decode per step would cost as much as a UNet step at 512 px; a 4×3 matrix costs
nothing, so previews can run every step.
"""

from __future__ import annotations

import functools

import numpy as np

from engine.images import to_uint8

# Hand-made, approximate latent→RGB map for SD 1.x/2.x latents (as the pipeline holds them,
# i.e. already multiplied by the VAE's scaling factor): a least-squares fit of decoded colours on
# latent values that the community published in 2022 (the "cheap approximation" preview of the
# web UIs). It is only a colour sketch: it ignores the decoder's spatial detail and knows nothing
# about other VAEs (SDXL's, or the random tiny test VAE, whose previews will not match its decode).
LATENT_RGB_FACTORS = np.array(
    [
        [0.298, 0.207, 0.208],  # latent channel 0 → R, G, B
        [0.187, 0.286, 0.173],  # channel 1
        [-0.158, 0.189, 0.264],  # channel 2
        [-0.184, -0.271, -0.473],  # channel 3
    ],
    dtype=np.float32,
)


def latents_to_rgb(latents: np.ndarray) -> np.ndarray:
    """``4×h×w`` latents → ``h×w×3`` uint8 preview (other channel counts: grey of the mean)."""
    latents = np.asarray(latents, dtype=np.float32)
    if latents.shape[0] == LATENT_RGB_FACTORS.shape[0]:
        rgb = np.einsum("chw,cr->hwr", latents, LATENT_RGB_FACTORS)
    else:
        rgb = np.repeat(latents.mean(axis=0)[..., None], 3, axis=-1)
    return to_uint8(rgb)


def channel_images(latents: np.ndarray) -> list[np.ndarray]:
    """Each latent channel as a grey uint8 image, scaled symmetrically around 0 (mid-grey = 0)."""
    latents = np.asarray(latents, dtype=np.float32)
    images = []
    for channel in latents:
        bound = float(np.abs(channel).max()) or 1.0
        images.append(to_uint8(channel, -bound, bound))
    return images


class PredictionCapture:
    """Wraps ``scheduler.step`` to keep the latest predicted clean sample x̂₀ of the batch.

    DDIM, DDPM, Euler and LCM return x̂₀ themselves; for the multistep solvers (PNDM,
    DPM-Solver++, UniPC), which return only the next sample, it is computed from the model
    output the same way those solvers do internally:
    ε-prediction x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, v-prediction x̂₀ = √ᾱ_t·x_t − √(1−ᾱ_t)·v̂.
    """

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.x0 = None
        self._original_step = original = scheduler.step

        # ``wraps`` keeps step's signature visible: pipelines pass ``generator`` (and ``eta``)
        # only when ``inspect.signature(scheduler.step)`` lists it, and without it the
        # stochastic samplers (Euler ancestral, DDPM, LCM) drew from the global RNG, so the
        # same seed gave a different image on every run.
        @functools.wraps(original)
        def step(model_output, timestep, sample, *args, **kwargs):
            return self._step(model_output, timestep, sample, *args, **kwargs)

        scheduler.step = step

    def restore(self) -> None:
        self.scheduler.step = self._original_step

    def _step(self, model_output, timestep, sample, *args, **kwargs):
        output = self._original_step(model_output, timestep, sample, *args, **kwargs)
        self.x0 = self._prediction(output, model_output, timestep, sample)
        return output

    def _prediction(self, output, model_output, timestep, sample):
        if isinstance(output, tuple):
            if len(output) > 1 and getattr(output[1], "shape", None) == sample.shape:
                return output[1].detach()
        else:
            for name in ("pred_original_sample", "denoised"):
                value = getattr(output, name, None)
                if value is not None:
                    return value.detach()
        alphas_cumprod = getattr(self.scheduler, "alphas_cumprod", None)
        if alphas_cumprod is None:
            return None
        index = int(timestep.item() if hasattr(timestep, "item") else timestep)
        alpha_bar = alphas_cumprod[min(max(index, 0), len(alphas_cumprod) - 1)].to(sample.device).float()
        x_t, out = sample.float(), model_output.float()
        kind = self.scheduler.config.get("prediction_type", "epsilon")
        if kind == "v_prediction":
            return alpha_bar.sqrt() * x_t - (1 - alpha_bar).sqrt() * out
        if kind == "sample":
            return out
        return (x_t - (1 - alpha_bar).sqrt() * out) / alpha_bar.sqrt()
