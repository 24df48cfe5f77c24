"""Diffusers' upscaler pipelines as the hires fix's upscale step (instead of bicubic/Lanczos).

``StableDiffusionLatentUpscalePipeline`` (×2) works on the first pass's latents directly (it
shares SD 1.x's VAE latent space) and returns latents (``output_type="latent"``).
``StableDiffusionUpscalePipeline`` (the x4 upscaler) has its own VAE and latent space: it gets
the decoded first-pass images and returns pixels ×4, which the main VAE encodes again. Either
way the img2img second pass then runs as with the built-in upscalers (its strength is at least
MIN_STRENGTH, so it never skips: a low strength keeps the upscaler's result nearly as it is).
Which pipeline a folder holds comes from its model_index.json ``_class_name``; its factor is
fixed, so the request's hires scale must equal it.

Upscalers load offline (a folder, or a hub id already in the cache) and are kept in their own
one-entry cache, apart from the main pipeline's.
"""

from __future__ import annotations

import numpy as np

UPSCALER_CLASSES = {"StableDiffusionLatentUpscalePipeline": "latent ×2",
                    "StableDiffusionUpscalePipeline": "pixel ×4"}

_cache: dict = {}  # {(location, device, dtype): pipeline}, one entry


def upscaler_class(location: str) -> str:
    """The pipeline class named in ``location``'s model_index.json (folder or cached hub id)."""
    from diffusers import DiffusionPipeline

    try:
        config = DiffusionPipeline.load_config(location, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 — any failure here means: not a usable upscaler
        raise ValueError(f"Cannot read the upscaler model “{location}”: it must be a diffusers "
                         f"folder or a hub id already downloaded ({exc}).") from exc
    name = config.get("_class_name", "")
    if name not in UPSCALER_CLASSES:
        raise ValueError(f"“{location}” holds a {name or 'unknown pipeline'}, not an upscaler "
                         f"(choose a {' or '.join(UPSCALER_CLASSES)} folder).")
    return name


def upscaler_factor(pipe) -> int:
    """How much the pipeline enlarges each side: 2 for the latent upscaler; for the x4
    upscaler its VAE's factor (its UNet works at the input's pixel size; the VAE decodes ×4)."""
    if type(pipe).__name__ == "StableDiffusionLatentUpscalePipeline":
        return 2
    return 2 ** (len(pipe.vae.config.block_out_channels) - 1)


def load_upscaler(location: str, device, dtype):
    """The upscaler pipeline at ``location`` on ``device``/``dtype``, from the cache if it is
    the one loaded last."""
    import diffusers

    key = (location, str(device), str(dtype))
    if key not in _cache:
        _cache.clear()  # one upscaler at a time: they are large
        pipe_class = getattr(diffusers, upscaler_class(location))
        pipe = pipe_class.from_pretrained(location, local_files_only=True, dtype=dtype)
        pipe.set_progress_bar_config(disable=True)
        _cache[key] = pipe.to(device)
    return _cache[key]


def check_scale(pipe, scale: float, location: str) -> None:
    factor = upscaler_factor(pipe)
    if abs(scale - factor) > 1e-6:
        raise ValueError(f"The upscaler model “{location}” enlarges ×{factor}; set the hires "
                         f"scale to {factor} (it is {scale:g}).")


def model_upscale(upscaler, pipe, latents, request, batch_seeds):
    """The first pass's ``latents`` enlarged by ``upscaler``, as latents of ``pipe``'s VAE."""
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import decode_latents, encode_image

    torch = import_torch()
    count = latents.shape[0]
    # Plain prompt text: the upscalers have their own text encoders (no weighting syntax).
    common = dict(prompt=[request.prompt] * count, negative_prompt=[request.negative_prompt] * count,
                  num_inference_steps=request.hires_steps or request.steps,
                  guidance_scale=request.guidance_scale,
                  generator=[torch.Generator("cpu").manual_seed(int(s)) for s in batch_seeds])
    if type(upscaler).__name__ == "StableDiffusionLatentUpscalePipeline":
        out = upscaler(image=latents.to(upscaler.unet.dtype), output_type="latent", **common)
        return out.images.to(latents.device, latents.dtype)
    images = decode_latents(pipe, latents)  # uint8 (n, H, W, 3)
    low_res = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    out = upscaler(image=low_res, output_type="np", **common).images  # float [0, 1]
    encoded = [encode_image(pipe, np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8))
               for image in out]
    return torch.cat(encoded).to(latents.dtype)
