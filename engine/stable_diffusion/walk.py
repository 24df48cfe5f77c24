"""Latent walks of Stable Diffusion (text to image): between two seeds' initial latents (slerp,
``engine.samplers.noise``) and/or between two prompts (the text embeddings, interpolated
linearly per token).

Each frame is one pipeline call built like ``generation.run_generation``'s txt2img call: the
same pipeline, scheduler, generator, size and guidance. The first seed's latents are drawn by
diffusers' own ``randn_tensor`` from the same CPU generator the pipeline would use (which then
goes on to draw a stochastic sampler's per-step noise, as in a single run), and the first
prompt's embedding is the one the pipeline computes itself; both ends are exact (slerp and lerp
return their endpoints bit for bit), so the first and last frames are the images ``generate``
makes with that seed and prompt. The request and frame types live in ``types.py`` (the job).
"""

from __future__ import annotations

import time

from engine.errors import Cancelled, UserFacingError
from engine.stable_diffusion.types import SdWalkFrame, SdWalkRequest

__all__ = ["SdWalkFrame", "SdWalkRequest", "interpolate_embeddings", "run_sd_walk"]


def interpolate_embeddings(first, second, t: float):
    """Per-token linear interpolation of two prompt embeddings; exact at t = 0 and 1."""
    import torch

    if t == 0.0:
        return first.clone()
    if t == 1.0:
        return second.clone()
    return torch.lerp(first, second, float(t))


def run_sd_walk(request: SdWalkRequest, reporter) -> list[SdWalkFrame]:
    """Every frame in turn, each reported as an ``SdWalkFrame`` partial; ``Cancelled(frames)``
    with those finished when cancelled."""
    from diffusers.utils.torch_utils import randn_tensor

    from engine.runtime import import_torch
    from engine.samplers.noise import slerp
    from engine.stable_diffusion.cancel_hooks import cancel_checks
    from engine.stable_diffusion.denoisers import require_unet
    from engine.stable_diffusion.generation import decode_latents, pipeline_for_mode
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.lora import apply_networks
    from engine.stable_diffusion.schedulers import make_scheduler

    torch = import_torch()
    base = request.base
    loaded = get_pipeline(base.source, base.options, reporter)
    require_unet(loaded.pipe, "The latent walk")
    apply_networks(loaded, base)  # the base request's LoRAs, else none left from an earlier run
    pipe = pipeline_for_mode(loaded, "txt2img")
    pipe.scheduler = make_scheduler(base.scheduler, loaded.pipe, base.steps, base.zero_snr)
    device = pipe._execution_device
    sdxl = type(pipe).__name__.startswith("StableDiffusionXL")
    if request.prompt_to is not None and sdxl:  # two text encoders and pooled embeddings
        raise UserFacingError("A walk between prompts works with Stable Diffusion 1.x and 2.x "
                              "models so far, not SDXL; walk between seeds instead.")
    with torch.inference_mode():
        first_embeds = second_embeds = None
        if request.prompt_to is not None:
            first_embeds = pipe.encode_prompt(base.prompt, device, 1, False)[0]
            second_embeds = pipe.encode_prompt(request.prompt_to, device, 1, False)[0]
    shape = (1, pipe.unet.config.in_channels, base.height // pipe.vae_scale_factor,
             base.width // pipe.vae_scale_factor)
    # The dtype the pipeline draws x_T in: its prompt embeddings' (the text encoder's).
    encoder = getattr(pipe, "text_encoder", None) or pipe.unet
    dtype = first_embeds.dtype if first_embeds is not None else encoder.dtype
    seed_to = request.seed_to if request.seed_to is not None else base.seed
    other = randn_tensor(shape, generator=[torch.Generator("cpu").manual_seed(seed_to)],
                         device=device, dtype=dtype)
    parameters = {**base.parameters(), "seed": base.seed, "width": base.width,
                  "height": base.height, "scheduler_class": type(pipe.scheduler).__name__}
    frames: list[SdWalkFrame] = []
    total = base.steps * request.frames
    started = time.perf_counter()
    with cancel_checks(reporter.cancel_event, pipe.unet, pipe.vae):
        for index in range(request.frames):
            t = request.fraction(index)
            generator = torch.Generator("cpu").manual_seed(base.seed)
            # Drawn first, as the pipeline draws x_T; the generator then continues with a
            # stochastic sampler's per-step noise, which is the first seed's in every frame.
            noise = randn_tensor(shape, generator=[generator], device=device, dtype=dtype)

            def on_step(pipeline, step, timestep, kwargs, index=index):
                reporter.progress(index * base.steps + step + 1, total,
                                  f"frame {index + 1}/{request.frames}")
                return kwargs

            try:
                with torch.inference_mode():
                    prompt = (dict(prompt=base.prompt) if first_embeds is None else dict(
                        prompt_embeds=interpolate_embeddings(first_embeds, second_embeds, t)))
                    latents = pipe(
                        **prompt, negative_prompt=base.negative_prompt or None,
                        num_inference_steps=base.steps, guidance_scale=base.guidance_scale,
                        num_images_per_prompt=1, output_type="latent", generator=[generator],
                        latents=slerp(noise, other, t), width=base.width, height=base.height,
                        callback_on_step_end=on_step).images
                    image = decode_latents(pipe, latents)[0]
            except Cancelled:
                raise Cancelled(frames) from None
            frame = SdWalkFrame(index, request.frames, t, image, parameters)
            frames.append(frame)
            reporter.partial(frame)
            if reporter.cancelled:
                raise Cancelled(frames)
    reporter.progress(total, total, f"{time.perf_counter() - started:.1f} s")
    return frames
