"""Cheap per-step previews: the predicted clean latent x̂₀, shown through a linear latent→RGB map.

A full VAE decode per step would cost as much as a UNet step at 512 px; a channels×3 matrix
costs nothing, so previews can run every step. Each model family has its own map (its VAE has
its own latent space: families.py); latents of an unknown model get the map of the family whose
latents have as many channels (4: SD 1.x, 16: SD 3), else a grey of their mean.
"""

from __future__ import annotations

import numpy as np

from engine.images import to_uint8
from engine.stable_diffusion.families import SD1_FACTORS, ModelFamily, family, family_for_channels

# SD 1.x/2.x's map (kept under this name for its users: families.SD1_FACTORS).
LATENT_RGB_FACTORS = np.array(SD1_FACTORS, dtype=np.float32)


def preview_family(latents: np.ndarray, model_family: ModelFamily | str | None = None):
    """The family whose map fits ``latents`` (C×h×w): the given one (or its name) when its
    channel count matches, else by channel count; None when none fits."""
    channels = int(np.shape(latents)[0])
    if isinstance(model_family, str):
        model_family = family(model_family)
    if model_family is not None and model_family.latent_channels == channels:
        return model_family
    return family_for_channels(channels)


def linear_rgb(latents: np.ndarray, model_family: ModelFamily | str | None = None) -> np.ndarray:
    """``C×h×w`` latents → ``h×w×3`` float32 through the family's map (about [−1, 1]); other
    channel counts: the mean of the channels as grey."""
    latents = np.asarray(latents, dtype=np.float32)
    chosen = preview_family(latents, model_family)
    if chosen is None:
        return np.repeat(latents.mean(axis=0)[..., None], 3, axis=-1)
    factors = np.asarray(chosen.rgb_factors, dtype=np.float32)
    return np.einsum("chw,cr->hwr", latents, factors) + np.asarray(chosen.rgb_bias, np.float32)


def latents_to_rgb(latents: np.ndarray, model_family: ModelFamily | str | None = None) -> np.ndarray:
    """``C×h×w`` latents → ``h×w×3`` uint8 preview through ``model_family``'s map (None: chosen by
    the channel count; see ``preview_family``)."""
    return to_uint8(linear_rgb(latents, model_family))


def channel_images(latents: np.ndarray) -> list[np.ndarray]:
    """Each latent channel as a grey uint8 image, scaled symmetrically around 0 (mid-grey = 0)."""
    latents = np.asarray(latents, dtype=np.float32)
    images = []
    for channel in latents:
        bound = float(np.abs(channel).max()) or 1.0
        images.append(to_uint8(channel, -bound, bound))
    return images


def result_family(result) -> ModelFamily | None:
    """The model family of a ``GenerationResult`` (None when it does not say)."""
    return getattr(getattr(result, "model_info", None), "family", None)
