"""Text-to-image, image-to-image, inpainting and outpainting through the real diffusers pipelines.

Every step the pipeline's ``callback_on_step_end`` records the latents and the predicted clean
latent x̂₀ (within a memory budget: recording.py) and sends a cheap preview; the final image gets one full VAE decode. Inpainting and
outpainting paste the input's own pixels back outside the (feathered) mask after decoding, as
AUTOMATIC1111 does (``overlay``). Cancel is checked before every block of the UNet and the VAE
(cancel_hooks.py), so it takes effect mid-step; what exists comes back as latents, undecoded.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time

import numpy as np
from PIL import Image, ImageFilter

from engine.errors import Cancelled, UserFacingError
from engine.images import to_uint8, to_unit_range
from engine.samplers.x0_capture import PredictionCapture
from engine.stable_diffusion.attention_capture import capturing, new_capture
from engine.stable_diffusion.cancel_hooks import cancel_checks
from engine.stable_diffusion.denoisers import (
    FlowGuidance,
    denoiser,
    flow_request_notes,
    is_flow_pipeline,
    latent_unpacker,
)
from engine.stable_diffusion.devices import out_of_memory_advice
from engine.stable_diffusion.families import detect_family, family_parameters
from engine.stable_diffusion.guidance import GuidanceProbe
from engine.stable_diffusion.hires import HiresPass
from engine.stable_diffusion.host_copies import HostCopies
from engine.stable_diffusion.loading import LoadedPipeline, get_pipeline
from engine.stable_diffusion.lora import apply_networks
from engine.stable_diffusion.preview_decoder import PreviewDecoding
from engine.stable_diffusion.previews import latents_to_rgb
from engine.stable_diffusion.prompt_encoding import prompt_inputs, syntax_support
from engine.stable_diffusion.recording import StepRecording
from engine.stable_diffusion.refiner import RefinerPass, release_unused
from engine.stable_diffusion.schedulers import make_scheduler
from engine.stable_diffusion.sdxl import check_sdxl_request, conditioning_kwargs
from engine.stable_diffusion.speedups import compile_pending, mark_compiled, unet_is_compiled
from engine.stable_diffusion.tokens import token_info
from engine.stable_diffusion.types import (
    DecodedImage,
    DecodeLatentsRequest,
    GenerationRequest,
    GenerationResult,
    Overlay,
    StepPreview,
    VaeRoundTripRequest,
    VaeRoundTripResult,
    steps_text,
)

log = logging.getLogger(__name__)
_UNKNOWN = object()


def pipeline_for_mode(loaded: LoadedPipeline, mode: str):
    """The pipeline for a mode, sharing the loaded components (``from_pipe``: no copy)."""
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

    cache = loaded.mode_pipes
    inpainting_model = loaded.info.is_inpainting_model
    if mode == "txt2img":
        if inpainting_model:
            raise UserFacingError("This is an inpainting checkpoint (its UNet takes a mask): use "
                                  "the inpaint or outpaint mode, or load a regular model.")
        return loaded.pipe
    if mode == "img2img" and inpainting_model:
        raise UserFacingError("This is an inpainting checkpoint: use inpaint/outpaint, or load a "
                              "regular model for image-to-image.")
    key = "img2img" if mode == "img2img" else "inpaint"
    if key not in cache:
        factory = AutoPipelineForImage2Image if key == "img2img" else AutoPipelineForInpainting
        pipe = factory.from_pipe(loaded.pipe)
        pipe.set_progress_bar_config(disable=True)
        cache[key] = pipe
    return cache[key]


# ---------------------------------------------------------------------------------------------
def prepare_images(request: GenerationRequest):
    """(init image, mask, width, height) as the pipeline wants them, from the request."""
    width, height = request.width, request.height
    if request.mode == "txt2img":
        return None, None, width, height
    image = Image.fromarray(np.asarray(request.init_image, dtype=np.uint8)[..., :3]).convert("RGB")
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    if request.mode == "img2img":
        return image, None, width, height
    if request.mode == "inpaint":
        mask = Image.fromarray(np.asarray(request.mask, dtype=np.uint8)).convert("L")
        mask = mask.resize((width, height), Image.Resampling.NEAREST)
    else:
        image, mask = extend_canvas(image, request.outpaint)
        width, height = image.size
    if request.mask_feather > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(request.mask_feather))
    return image, mask, width, height


# The new area overlaps the old image by this many pixels, so the seam is repainted too.
OUTPAINT_OVERLAP = 8


def extend_canvas(image: Image.Image, margins: tuple[int, int, int, int]):
    """Grow the canvas by (left, top, right, bottom) px; the mask marks the new area (255).

    The new area starts as the image's edge pixels stretched outward (not black), so the
    autoencoder sees plausible colours there and the fill blends in.
    """
    left, top, right, bottom = margins
    pixels = np.asarray(image)
    padded = np.pad(pixels, ((top, bottom), (left, right), (0, 0)), mode="edge")
    mask = np.full(padded.shape[:2], 255, dtype=np.uint8)
    h, w = pixels.shape[:2]
    o = OUTPAINT_OVERLAP
    mask[top + (o if top else 0): top + h - (o if bottom else 0),
         left + (o if left else 0): left + w - (o if right else 0)] = 0
    return Image.fromarray(padded), Image.fromarray(mask)


# ---------------------------------------------------------------------------------------------
NON_FINITE_ADVICE = ("This usually means broken or incompatible weights, or a half-precision "
                     "overflow: try another model or checkpoint, or float32 (the CPU device).")


def require_finite(tensor, what: str) -> None:
    """A NaN/inf result is an error with a sentence, never a black image."""
    from engine.runtime import import_torch

    if not bool(import_torch().isfinite(tensor).all()):
        raise UserFacingError(f"{what} contains NaN or infinite values, so there is no image to "
                              f"show. {NON_FINITE_ADVICE}")


def decode_latents(pipe, latents) -> np.ndarray:
    """Scaled latents (B×C×h×w tensor; C = 4, or 16 for SD 3/Flux) → B×H×W×3 uint8 through the
    full VAE decoder."""
    from engine.runtime import import_torch

    torch = import_torch()
    vae = pipe.vae
    z = latents.to(device=vae.device, dtype=vae.dtype) / vae.config.scaling_factor
    if getattr(vae.config, "shift_factor", None):
        z = z + vae.config.shift_factor
    with torch.no_grad():
        image = vae.decode(z, return_dict=False)[0]
    require_finite(image, "The autoencoder's decoded image")
    return to_uint8(image.permute(0, 2, 3, 1))


def apply_overlay(pipe, images, overlay: Overlay | None) -> list[np.ndarray]:
    """Decoded images with the input's own pixels outside the mask (diffusers' apply_overlay,
    the AUTOMATIC1111 composite); unchanged without an overlay."""
    if overlay is None:
        return list(images)
    init = Image.fromarray(np.asarray(overlay.image, dtype=np.uint8))
    mask = Image.fromarray(np.asarray(overlay.mask, dtype=np.uint8))
    composited = []
    for image in images:
        if image.shape[:2] != overlay.image.shape[:2]:
            composited.append(image)  # not this run's size: nothing to composite with
            continue
        out = pipe.image_processor.apply_overlay(mask, init, Image.fromarray(image))
        composited.append(np.asarray(out, dtype=np.uint8))
    return composited


def encode_image(pipe, image: np.ndarray):
    """H×W×3 uint8 → scaled latents (1×C×h×w), the mean of the encoder's distribution (SD 3/
    Flux: shifted first, (z − shift)·scale, the inverse of decode_latents)."""
    from engine.runtime import import_torch

    torch = import_torch()
    vae = pipe.vae
    pixels = torch.from_numpy(to_unit_range(np.asarray(image)[..., :3]))
    pixels = pixels.permute(2, 0, 1)[None].to(device=vae.device, dtype=vae.dtype)
    with torch.no_grad():
        latents = vae.encode(pixels).latent_dist.mean
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    return (latents - shift) * vae.config.scaling_factor


# ---------------------------------------------------------------------------------------------
class StepRecorder:
    """The ``callback_on_step_end`` of one pipeline call: record, preview, progress, cancel.

    Nothing here waits for the device (on CUDA the pipeline runs ahead of the GPU): recorded
    steps stay on the model's device (cloned, in the recording's dtype) and move to the host in
    one copy when the call ends (``finish``, also after Cancel); previews go through
    asynchronous host copies (host_copies.py) and, on a GPU, at most ``MAX_PREVIEWS_PER_S`` a
    second, since nobody sees more and each costs a copy.
    """

    MAX_PREVIEWS_PER_S = 20

    def __init__(self, request: GenerationRequest, reporter, capture: PredictionCapture,
                 recording: StepRecording, batch_index: int, done_before: int, total: int):
        self.request = request
        self.reporter = reporter
        self.capture = capture
        self.recording = recording
        self.batch_index = batch_index
        self.done_before = done_before
        self.total = total
        self.last_prediction = None  # tensor: x̂₀ of the last finished step, the partial result
        self.steps_done = 0
        self.model_calls = steps_for(request)
        self.copies = HostCopies()
        self.recorded = []  # (x_t, x̂₀, t) on the device, until finish()
        self.last_preview_at = float("-inf")
        self.family = _UNKNOWN  # the pipeline's model family: its latent→RGB map (families.py)
        self.first_step_at = None  # perf_counter() at the first step's end (compile timing)
        self.step_hook = None  # (pipe, i, kwargs) -> kwargs: prompt editing's embeddings switch
        self.phase = ""  # "hires " for the hires fix's second pass (progress text)
        # The hires fix's other pass: its model calls per batch, and whether this batch's is done
        self.other_pass_calls, self.other_pass_done = 0, False
        self.unpack = lambda latents: latents  # Flux: its tokens → B×C×h×w (denoisers.py)
        self.previews = None  # PreviewDecoding (preview_decoder.py): TAESD previews, if given

    def __call__(self, pipe, i, t, kwargs):
        latents = self.unpack(kwargs["latents"])
        if self.family is _UNKNOWN:  # once per recorder, not every step (None: not known)
            self.family = detect_family(pipe)
        x0 = self.unpack(self.capture.x0) if self.capture.x0 is not None else latents
        self.last_prediction = x0
        self.steps_done = i + 1
        steps_in_call = getattr(pipe, "num_timesteps", None) or self.request.steps
        self.model_calls = steps_in_call
        now = time.perf_counter()
        if self.first_step_at is None:
            self.first_step_at = now
        if i == 0:  # the scheduler decides the real count (PNDM adds a step, strength cuts some)
            calls = steps_in_call + self.other_pass_calls
            self.total = (self.done_before + calls * (self.request.batch_count - self.batch_index)
                          - self.other_pass_calls * self.other_pass_done)
        if self.request.record_steps and self.recording.wants(
                self.batch_index, i, steps_in_call, tuple(latents.shape)):
            self.recorded.append(self.recording.on_device(latents, x0, t))
        if self.preview_due(i, steps_in_call, latents, now):
            self.last_preview_at = now
            tensors = (latents[:1], x0[:1]) + ((t.reshape(1),) if hasattr(t, "reshape") else ())
            decoded = self.previews.device_image(x0[:1]) if self.previews is not None else None
            meta = (i, None if len(tensors) == 3 else float(t), steps_in_call, decoded is not None)
            self.copies.submit(tensors + ((decoded,) if decoded is not None else ()), meta)
        self.deliver(self.copies.ready())
        if self.phase or steps_in_call == self.request.steps:
            message = f"{self.phase}step {i + 1}/{steps_in_call}"
        else:
            message = (f"model call {i + 1}/{steps_in_call} · "
                       f"{steps_text(self.request.steps, steps_in_call)}")
        self.reporter.progress(self.done_before + i + 1, self.total, message)
        if self.reporter.cancelled:
            raise Cancelled()  # run_generation turns what exists into the partial result
        return kwargs if self.step_hook is None else self.step_hook(pipe, i, kwargs)

    def preview_due(self, i: int, steps_in_call: int, latents, now: float) -> bool:
        every = self.request.preview_every
        if not every or ((i + 1) % every and i + 1 != steps_in_call):
            return False
        if latents.device.type == "cpu" or i + 1 == steps_in_call:
            return True  # CPU steps take far longer than a preview
        return now - self.last_preview_at >= 1 / self.MAX_PREVIEWS_PER_S

    def deliver(self, copies) -> None:
        """Send the previews whose host copies are ready."""
        for arrays, (i, timestep, steps_in_call, decoded) in copies:
            latents_np, x0_np = arrays[0][0], arrays[1][0]
            self.reporter.partial(StepPreview(
                image_index=self.batch_index, step=i + 1, total_steps=steps_in_call,
                timestep=float(arrays[2][0]) if timestep is None else timestep,
                preview=arrays[-1][0].astype(np.uint8) if decoded
                else latents_to_rgb(x0_np, self.family),
                latents=latents_np,
                requested_steps=self.request.steps))

    def finish(self) -> None:
        """At the end of the pipeline call (also a cancelled one): the recorded steps to the
        host in one copy, and the previews still on their way."""
        self.recording.add_from_device(self.batch_index, self.recorded)
        self.recorded = []
        self.deliver(self.copies.drain())


def steps_for(request: GenerationRequest) -> int:
    """Denoising steps one pipeline call runs (img2img/inpaint skip the first 1−strength)."""
    if request.mode in ("img2img", "inpaint"):
        return max(1, min(int(request.steps * request.strength), request.steps))
    return request.steps


def pipeline_steps(request: GenerationRequest) -> int:
    """``num_inference_steps`` for the pipeline: img2img/inpaint run int(steps × strength) of
    them, and diffusers refuses 0 (``--steps 1 --strength 0.75``), so ask for just enough that
    one step runs."""
    steps = request.steps
    if request.mode in ("img2img", "inpaint"):
        while int(steps * request.strength) < 1:
            steps += 1
    return steps


def at_native_size(request: GenerationRequest, native: int) -> GenerationRequest:
    """A txt2img request that asked for the model's native size (the GUI's first run, before the
    model is known), at that size; the result and its PNG record the real size."""
    if not request.native_size:
        return request
    if request.mode != "txt2img":
        return dataclasses.replace(request, native_size=False)
    return dataclasses.replace(request, width=native, height=native, native_size=False)


def run_generation(request: GenerationRequest, reporter) -> GenerationResult:
    """Job handler for all four modes."""
    from engine.runtime import import_torch

    torch = import_torch()
    release_unused(request)  # an SDXL refiner this run does not use (refiner.py)
    loaded = get_pipeline(request.source, request.options, reporter)
    request = at_native_size(request, loaded.info.default_size)
    flow = is_flow_pipeline(loaded.pipe)  # SD 3/Flux: what they cannot do is refused here
    flow_notes = flow_request_notes(loaded.pipe, request) if flow else []
    pipe = pipeline_for_mode(loaded, request.mode)
    check_sdxl_request(pipe, request)  # micro-conditioning and refiner: SDXL only (sdxl.py)
    pipe.scheduler = make_scheduler(request.scheduler, loaded.pipe, pipeline_steps(request),
                                    request.zero_snr)
    seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
    image, mask, width, height = prepare_images(request)
    overlay = None
    if request.overlay and mask is not None:
        overlay = Overlay(np.asarray(image, dtype=np.uint8), np.asarray(mask, dtype=np.uint8))
    networks = apply_networks(loaded, request)  # LoRAs and embeddings, per request
    chunked = not syntax_support(pipe)
    tokens = token_info(pipe.tokenizer, networks.prompt, steps_for(request), chunked)
    negative_tokens = token_info(pipe.tokenizer, request.negative_prompt, steps_for(request), chunked)
    # CLIP's 77-token cut is no loss for SD 3/Flux: their T5 encoder reads on (T5_TOKENS).
    cut = () if flow else (tokens.warning, negative_tokens.warning)
    warnings = list(loaded.info.warnings) + [w for w in cut if w]
    warnings += list(networks.warnings) + flow_notes
    parameters = {**request.parameters(), "seed": seed, "width": width, "height": height,
                  "scheduler_class": type(pipe.scheduler).__name__, **networks.parameters(),
                  **family_parameters(loaded.info.family, request),
                  **(request.sdxl.parameters() if request.sdxl is not None else {})}
    refiner = RefinerPass(request, loaded, reporter)  # the SDXL refiner's steps, if asked
    warnings += refiner.warnings

    reporter.restart_clock()
    started = time.perf_counter()
    hires = HiresPass(request, loaded)  # the hires fix's second pass (hires.py), if asked
    model_calls = steps_for(request)
    total = (model_calls + hires.model_calls) * request.batch_count
    images, seeds = [], []
    recording = StepRecording(request.recording_budget_mb, request.batch_count)
    steps_done = 0
    partial_latents = None
    capture = PredictionCapture(pipe.scheduler)
    attention, attention_problem = new_capture(request, loaded, pipe, tokens)
    warnings += [attention_problem] if attention_problem else []
    with torch.inference_mode():  # the prompt syntax's embeddings, or the prompts as text
        prompts = prompt_inputs(pipe, networks.prompt, request.negative_prompt, steps_for(request),
                                request.batch_size)
    # the two branches, cut-off, rescale (guidance.py); SD 3/Flux: the pipeline's own guidance
    guidance = FlowGuidance(pipe, request) if flow else GuidanceProbe(pipe, request)
    unpack = latent_unpacker(pipe, height, width)
    previews = PreviewDecoding(request.preview_decoder if request.preview_every else None, pipe)
    try:
        # A compiled UNet is checked between steps only (speedups.py); the VAE always inside.
        unet_checked = None if unet_is_compiled(loaded) else denoiser(pipe)
        with cancel_checks(reporter.cancel_event, unet_checked, pipe.vae), guidance.attached():
            for batch in range(request.batch_count):
                guidance.begin_batch(batch)
                batch_seeds = [(seed + batch * request.batch_size + j) % 2**32
                               for j in range(request.batch_size)]
                recorder = StepRecorder(request, reporter, capture, recording, batch, steps_done,
                                        total)
                recorder.step_hook = prompts.step_hook
                recorder.unpack = unpack
                recorder.other_pass_calls = hires.model_calls
                recorder.previews = previews
                prompts.start()
                kwargs = dict(
                    **prompts.kwargs(), num_inference_steps=pipeline_steps(request),
                    num_images_per_prompt=request.batch_size, output_type="latent",
                    generator=[torch.Generator("cpu").manual_seed(s) for s in batch_seeds],
                    # The recorder (with prompt editing's switch), then the cut-off.
                    callback_on_step_end=guidance.callback(refiner.base_callback(recorder)),
                    callback_on_step_end_tensor_inputs=guidance.tensor_inputs(
                        ["latents", *prompts.tensor_inputs()]),
                    **guidance.pipeline_kwargs(), **refiner.base_kwargs(),
                    **conditioning_kwargs(pipe, request, width, height),
                )
                if request.mode == "txt2img":
                    kwargs.update(width=width, height=height)
                elif request.mode == "img2img":
                    kwargs.update(image=image, strength=request.strength)
                else:
                    strength = 1.0 if request.mode == "outpaint" else request.strength
                    kwargs.update(image=image, mask_image=mask, width=width, height=height,
                                  strength=strength)
                latents = None
                first = recorder
                compile_key = (request.batch_size, height, width)
                compiling = compile_pending(loaded, compile_key)
                if compiling:
                    reporter.progress(steps_done, total, "Compiling the UNet (torch.compile): the "
                                      "first step at this size takes a minute or more…")
                call_started = time.perf_counter()
                try:
                    with out_of_memory_advice(width, height, request.batch_size), \
                            torch.inference_mode(), capturing(attention, pipe, batch):
                        latents = unpack(pipe(**kwargs).images)
                        if compiling and recorder.first_step_at is not None:
                            warnings.append(mark_compiled(
                                loaded, compile_key, recorder.first_step_at - call_started))
                    if refiner.enabled:  # the SDXL refiner takes over (refiner.py)
                        base, latents = latents, None
                        latents = refiner.run(base, recorder, batch_seeds, width, height,
                                              reporter.cancel_event)
                    if hires.enabled:  # upscale and refine (hires.py), outside the maps' capture
                        recorder.finish()
                        steps_done += recorder.steps_done
                        recorder = hires.recorder(StepRecorder, reporter, batch, steps_done, total,
                                                  first.model_calls)
                        recorder.previews = previews
                        base, latents = latents, None
                        with out_of_memory_advice(*request.hires_output_size, request.batch_size), \
                                torch.inference_mode():
                            latents = hires.run(loaded, base, prompts, recorder, batch_seeds)
                    with torch.inference_mode():
                        require_finite(latents, "The model's result")
                        images.extend(apply_overlay(pipe, decode_latents(pipe, latents), overlay))
                        seeds.extend(batch_seeds)
                except Cancelled:
                    # Mid-step or mid-decode: keep the latents, decode on demand later.
                    final = next((x for x in (latents, recorder.last_prediction,
                                              first.last_prediction) if x is not None), None)
                    if final is not None:
                        partial_latents = final.detach().float().cpu().numpy()
                finally:
                    recorder.finish()
                    steps_done += recorder.steps_done
                    model_calls = first.model_calls
                if reporter.cancelled:
                    break
    finally:
        capture.restore()

    warnings += [note for note in (recording.note(), hires.recording.note(), previews.note) if note]
    attention_maps = attention.result() if attention is not None else None
    if attention_maps is not None and attention_maps.note:
        warnings.append(attention_maps.note)
    result = GenerationResult(
        images=tuple(images), seeds=tuple(seeds), parameters=parameters,
        timesteps=tuple(recording.timesteps), recorded_steps=recording.recorded_steps(),
        step_latents=recording.step_latents(), step_predictions=recording.step_predictions(),
        tokens=tokens, negative_tokens=negative_tokens, warnings=tuple(warnings),
        seconds=round(time.perf_counter() - started, 3), steps_done=steps_done,
        cancelled=reporter.cancelled, model=loaded.info.label,
        scheduler_class=type(pipe.scheduler).__name__,
        latent_scaling_factor=float(pipe.vae.config.scaling_factor),
        model_info=loaded.info, requested_steps=request.steps, model_calls=model_calls,
        overlay=overlay, partial_latents=partial_latents, attention=attention_maps,
        guidance=guidance.record(), hires=hires.record(model_calls), refiner=refiner.record(),
        preview_decoder=previews.record(),
    )
    if reporter.cancelled:
        raise Cancelled(result)
    return result


# ---------------------------------------------------------------------------------------------
def decode_latents_job(request: DecodeLatentsRequest, reporter) -> DecodedImage:
    """Job handler: decode one recorded step (the GUI's step slider) with the loaded VAE."""
    from engine.runtime import import_torch

    torch = import_torch()
    loaded = get_pipeline(request.source, request.options, reporter)
    latents = torch.from_numpy(np.asarray(request.latents, dtype=np.float32))
    if latents.ndim == 3:
        latents = latents[None]
    with cancel_checks(reporter.cancel_event, loaded.pipe.vae):
        image = decode_latents(loaded.pipe, latents)
    return DecodedImage(apply_overlay(loaded.pipe, image, request.overlay)[0], request.tag)


def vae_round_trip_job(request: VaeRoundTripRequest, reporter) -> VaeRoundTripResult:
    """Job handler: encode an image to latents and decode it back: what the autoencoder keeps."""
    loaded = get_pipeline(request.source, request.options, reporter)
    factor = loaded.info.vae_scale_factor
    image = np.asarray(request.image, dtype=np.uint8)[..., :3]
    height, width = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    if min(height, width) < factor:
        raise UserFacingError("The image is too small for the autoencoder.")
    image = image[:height, :width]
    latents = encode_image(loaded.pipe, image)
    reconstruction = decode_latents(loaded.pipe, latents)[0]
    error = np.mean((reconstruction.astype(np.float64) - image.astype(np.float64)) ** 2)
    psnr = float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))
    return VaeRoundTripResult(image, latents[0].float().cpu().numpy(), reconstruction, psnr)
