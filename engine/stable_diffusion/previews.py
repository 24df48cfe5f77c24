"""Cheap per-step previews: the predicted clean latent x̂₀, shown through a linear latent→RGB map.

A full VAE decode per step would cost as much as a UNet step at 512 px; a 4×3 matrix costs
nothing, so previews can run every step.
"""

from __future__ import annotations

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
