"""Hires fix (AUTOMATIC1111's two passes): compose at the base size, then upscale and refine.

A UNet trained on 512² images has learnt how big things are relative to its receptive field and
the 64² latent: asked for 1024² directly it composes several small scenes side by side (two
heads, repeated objects). The hires fix lets it compose at the size it knows, upscales that
result (in latent space, bicubic; or in pixel space, Lanczos, through the VAE), and runs
image-to-image at a denoising strength on the large latents: noise is added only up to a middle
timestep, so the layout survives and the model's later steps, which work on local detail, add
detail at the new size.

The second pass is diffusers' img2img pipeline built with ``from_pipe`` (no copy of the
weights). Latent upscaling hands the upscaled latents to it as ``image``: for a 4-channel tensor
``VaeImageProcessor.preprocess`` returns it unchanged and ``prepare_latents`` takes it as
already-scaled latents (``init_latents = image``, no VAE encode, no scaling factor).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.samplers.x0_capture import PredictionCapture
from engine.stable_diffusion.hires_types import HiresRecord, upscaler_model_name
from engine.stable_diffusion.schedulers import make_scheduler
from engine.stable_diffusion.types import GenerationRequest


def hires_size(request: GenerationRequest) -> tuple[int, int]:
    """(width, height) of the second pass (types.hires_output_size)."""
    return request.hires_output_size


def hires_pipeline_steps(request: GenerationRequest) -> int:
    """``num_inference_steps`` of the second pass; it runs int(steps × strength) of them, at
    least one (as pipeline_steps does for img2img)."""
    steps = request.hires_steps or request.steps
    while int(steps * request.hires_strength) < 1:
        steps += 1
    return steps


def hires_model_calls(request: GenerationRequest) -> int:
    """Denoising steps the second pass runs (0 when the hires fix is off)."""
    if not request.hires_enabled:
        return 0
    steps = hires_pipeline_steps(request)
    return max(1, min(int(steps * request.hires_strength), steps))


def upscale_latents(pipe, latents, request: GenerationRequest):
    """The first pass's latents at the hires size: bicubic in latent space, or decoded,
    Lanczos-resized with Pillow and encoded again (the encoder's mean)."""
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import decode_latents, encode_image

    torch = import_torch()
    width, height = hires_size(request)
    factor = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    if request.hires_upscaler == "latent":
        up = torch.nn.functional.interpolate(latents.float(), size=(height // factor, width // factor),
                                             mode="bicubic", align_corners=False)
        return up.to(latents.dtype)
    images = decode_latents(pipe, latents)
    encoded = [encode_image(pipe, np.asarray(Image.fromarray(image).resize(
        (width, height), Image.Resampling.LANCZOS))) for image in images]
    return torch.cat(encoded).to(latents.dtype)


def second_pass(loaded, request: GenerationRequest, latents, prompts, recorder, batch_seeds,
                upscaler=None):
    """Upscale the first pass's ``latents`` and refine them with img2img; the refined latents
    (not decoded). ``recorder`` is the second pass's StepRecorder; ``upscaler``, when given,
    is a diffusers upscaler pipeline used instead of the built-in upscale (upscalers.py)."""
    from engine.runtime import import_torch
    from engine.stable_diffusion.generation import pipeline_for_mode

    torch = import_torch()
    pipe = pipeline_for_mode(loaded, "img2img")
    steps = hires_pipeline_steps(request)
    pipe.scheduler = make_scheduler(request.scheduler, loaded.pipe, steps, request.zero_snr)
    recorder.capture = capture = PredictionCapture(pipe.scheduler)  # x̂₀ of this pass's steps
    try:
        if upscaler is not None:
            from engine.stable_diffusion.upscalers import model_upscale

            upscaled = model_upscale(upscaler, pipe, latents, request, batch_seeds)
        else:
            upscaled = upscale_latents(pipe, latents, request)
        recorder.step_hook = prompts.step_hook
        prompts.start()
        kwargs = dict(
            **prompts.kwargs(), image=upscaled, strength=request.hires_strength,
            num_inference_steps=steps, num_images_per_prompt=request.batch_size,
            guidance_scale=request.guidance_scale, output_type="latent",
            generator=[torch.Generator("cpu").manual_seed(s) for s in batch_seeds],
            callback_on_step_end=recorder,
            callback_on_step_end_tensor_inputs=["latents", *prompts.tensor_inputs()])
        return pipe(**kwargs).images
    finally:
        capture.restore()


class HiresPass:
    """The second pass of one generation job: its progress count, recording and record."""

    def __init__(self, request: GenerationRequest, loaded=None):
        from engine.stable_diffusion.recording import StepRecording

        self.request = request
        self.enabled = request.hires_enabled
        self.model_calls = hires_model_calls(request)
        self.recording = StepRecording(request.recording_budget_mb if self.enabled else 0,
                                       request.batch_count)
        self.calls_done = 0
        self.upscaler = None
        if self.enabled and request.hires_upscaler_model and loaded is not None:
            # Loaded and checked before the first pass, so a wrong model fails at once.
            from engine.stable_diffusion.upscalers import check_scale, load_upscaler

            unet = loaded.pipe.unet
            self.upscaler = load_upscaler(request.hires_upscaler_model, unet.device, unet.dtype)
            check_scale(self.upscaler, request.hires_scale, request.hires_upscaler_model)

    def recorder(self, recorder_class, reporter, batch: int, done_before: int, total: int,
                 base_calls: int):
        """A StepRecorder for this pass of ``batch``, recording into its own StepRecording."""
        recorder = recorder_class(self.request, reporter, None, self.recording, batch,
                                  done_before, total)
        recorder.phase = "hires "
        recorder.other_pass_calls, recorder.other_pass_done = base_calls, True
        return recorder

    @property
    def upscaler_name(self) -> str:
        """``hires_upscaler``, or the upscaler model's folder name when one is used."""
        model = self.request.hires_upscaler_model
        return upscaler_model_name(model) if model else self.request.hires_upscaler

    def run(self, loaded, latents, prompts, recorder, batch_seeds):
        out = second_pass(loaded, self.request, latents, prompts, recorder, batch_seeds,
                          self.upscaler)
        self.calls_done = recorder.model_calls
        return out

    def record(self, base_model_calls: int) -> HiresRecord | None:
        """The second pass for the result (the step slider's second segment), None when off."""
        if not self.enabled:
            return None
        width, height = hires_size(self.request)
        recording = self.recording
        return HiresRecord(
            width=width, height=height, upscaler=self.upscaler_name,
            base_model_calls=base_model_calls, model_calls=self.calls_done or self.model_calls,
            timesteps=tuple(recording.timesteps), recorded_steps=recording.recorded_steps(),
            step_latents=recording.step_latents(),
            step_predictions=recording.step_predictions())
