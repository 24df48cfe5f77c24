"""The SDXL refiner: a second model that takes over the last steps of a text-to-image run.

SDXL 1.0 ships a base model and a refiner trained on the low-noise end of the schedule (fine
detail). diffusers' "ensemble of expert denoisers": the base runs with ``denoising_end=switch``
and hands its still-noisy latents over (``output_type="latent"``), the refiner
(``StableDiffusionXLImg2ImgPipeline``) starts at ``denoising_start=switch`` on them without
adding noise. Both use the same schedule, so the steps continue where the base stopped; the
step recorder sees them as one run (one StepRecording, steps numbered on through the refiner's,
``GenerationResult.refiner`` saying where it took over).

Memory: the refiner keeps its own UNet; its VAE and second text encoder are the base's when
their weights are the same (SDXL 1.0's are: the refiner ships copies of them), checked by
reading a few tensors from the refiner's files (``shareable_components``). The refiner stays
loaded while runs use it with the same base; a run without it (or a new base) lets it go.
Its prompt is plain text (it has only the second text encoder): prompt weights and editing
apply to the base; LoRAs and embeddings too.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import UserFacingError
from engine.samplers import builder
from engine.samplers.x0_capture import PredictionCapture
from engine.stable_diffusion.cancel_hooks import cancel_checks
from engine.stable_diffusion.devices import out_of_memory_advice, place_pipeline
from engine.stable_diffusion.prompt_syntax import (
    is_break,
    parse_weights,
    prompt_schedule,
    split_extra_networks,
)
from engine.stable_diffusion.sdxl import conditioning_kwargs
from engine.stable_diffusion.sdxl_types import RefinerRecord, refiner_name
from engine.stable_diffusion.types import GenerationRequest, ModelSource

log = logging.getLogger(__name__)

SHAREABLE = ("vae", "text_encoder", "text_encoder_2")
SAMPLED_TENSORS = 8  # compared per component before sharing it


@dataclass
class RefinerModel:
    location: str
    base: weakref.ref  # the LoadedPipeline whose components it may share
    pipe: object
    original_scheduler: object
    shared: tuple[str, ...] = ()
    vae_hooks: tuple = field(default=())


_refiner: RefinerModel | None = None


def release_unused(request: GenerationRequest) -> None:
    """Before a run loads its model: forget a refiner it will not use, so the memory goes first."""
    global _refiner
    if _refiner is None:
        return
    sdxl = request.sdxl
    base = _refiner.base()
    if (sdxl is None or sdxl.refiner != _refiner.location or base is None
            or base.source != request.source
            or base.options.load_options() != request.options.load_options()):
        _refiner = None


def forget_refiner() -> None:
    """Let the refiner go (the base model is unloaded: loading.unload)."""
    global _refiner
    _refiner = None


def get_refiner(location: str, loaded, reporter=None) -> RefinerModel:
    global _refiner
    if _refiner is None or _refiner.location != location or _refiner.base() is not loaded:
        _refiner = None  # the old one's memory first
        _refiner = load_refiner(location, loaded, reporter)
    return _refiner


def load_refiner(location: str, loaded, reporter=None) -> RefinerModel:
    """An SDXL img2img pipeline from a diffusers folder or hub id, sharing what it can."""
    from diffusers import StableDiffusionXLImg2ImgPipeline

    from engine.runtime import import_torch
    from engine.stable_diffusion.loading import hub_reachable

    torch = import_torch()
    source = ModelSource(location)
    if source.kind == "single_file":
        raise UserFacingError("The refiner loads from a diffusers folder or a hub id (e.g. "
                              "stabilityai/stable-diffusion-xl-refiner-1.0), not a single file.")
    if source.kind == "folder" and not (Path(location).expanduser() / "model_index.json").is_file():
        raise UserFacingError(f"The refiner folder {location} has no model_index.json.")
    local_only = source.kind == "folder" or not hub_reachable()
    try:
        index = StableDiffusionXLImg2ImgPipeline.load_config(
            str(Path(location).expanduser()) if source.kind == "folder" else location,
            local_files_only=local_only)
    except (OSError, ValueError) as exc:
        raise UserFacingError(f"The refiner {location} is neither a local diffusers folder nor "
                              "a model in the Hugging Face cache"
                              + ("" if local_only else " or on the Hub") + ".") from exc
    if not str(index.get("_class_name", "")).startswith("StableDiffusionXL"):
        raise UserFacingError(f"The refiner must be an SDXL model; {location} is a "
                              f"{index.get('_class_name', 'pipeline of unknown kind')}.")
    if reporter is not None:
        reporter.progress(0, 1, f"Loading the refiner {refiner_name(location)}…")
    # With model CPU offload each model moves to the GPU and back on its own hooks: sharing
    # modules between two offloaded pipelines would mix them up, so nothing is shared then.
    shared = {} if loaded.options.cpu_offload else shareable_components(
        location, loaded.pipe, index, local_only)
    where = str(Path(location).expanduser()) if source.kind == "folder" else location
    kwargs = dict(dtype=getattr(torch, loaded.plan.dtype), use_safetensors=True,
                  local_files_only=local_only, **shared)
    try:
        pipe = None
        if source.kind == "hub" and loaded.plan.dtype == "float16":
            try:  # the fp16 files (half the download), as the base loader does
                pipe = StableDiffusionXLImg2ImgPipeline.from_pretrained(where, variant="fp16",
                                                                        **kwargs)
            except (OSError, ValueError) as exc:
                log.info("no fp16 variant of the refiner %s (%s)", location, exc)
        if pipe is None:
            pipe = StableDiffusionXLImg2ImgPipeline.from_pretrained(where, **kwargs)
    except (OSError, ValueError) as exc:
        raise UserFacingError(f"Could not load the refiner {location}: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    with out_of_memory_advice(loading=True):
        hooks = place_pipeline(pipe, loaded.plan, loaded.options, keep_vae="vae" in shared)
    pipe.set_progress_bar_config(disable=True)
    log.info("loaded the refiner %s, sharing %s with the base", location, sorted(shared) or "nothing")
    return RefinerModel(location, weakref.ref(loaded), pipe, pipe.scheduler, tuple(sorted(shared)),
                        hooks)


def shareable_components(location: str, base_pipe, index: dict, local_only: bool) -> dict:
    """{name: the base's module} for the components the refiner has with the same weights."""
    shared = {}
    for name in SHAREABLE:
        module = getattr(base_pipe, name, None)
        entry = index.get(name)
        if module is None or not isinstance(entry, (list, tuple)) or entry[0] is None:
            continue
        try:
            if same_weights(component_folder(location, name), module):
                shared[name] = module
        except Exception as exc:  # not at hand, unreadable: load the refiner's own copy
            log.info("not sharing %s with the refiner: %s", name, exc)
    return shared


def component_folder(location: str, name: str) -> Path:
    """The refiner's ``name`` folder: in its diffusers folder, or in the Hugging Face cache."""
    folder = Path(location).expanduser()
    if folder.is_dir():
        return folder / name
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(location, allow_patterns=[f"{name}/*"],
                                  local_files_only=True)) / name


def same_weights(folder: Path, module) -> bool:
    """Whether one of ``folder``'s safetensors files holds ``module``'s weights: the same names
    and shapes (from the file's header) and equal values in a sample of tensors (read lazily,
    a few MB), after casting the file's to the module's dtype (fp16 variants are casts)."""
    from safetensors import safe_open

    from engine.runtime import import_torch

    torch = import_torch()
    state = module.state_dict()
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            keys = sorted(handle.keys())
            if set(keys) != set(state) or any(
                    list(handle.get_slice(k).get_shape()) != list(state[k].shape) for k in keys):
                continue
            step = max(1, len(keys) // SAMPLED_TENSORS)
            if all(torch.equal(handle.get_tensor(k).to(state[k].dtype), state[k].detach().cpu())
                   for k in keys[::step]):
                return True
    return False


# -- one run --------------------------------------------------------------------------------------
class _WholeRun:
    """The pipeline as the step recorder sees it in a base + refiner run: ``num_timesteps`` is
    both models' steps, so the recording is planned for, and numbers, the whole run."""

    def __init__(self, pipe, calls: int):
        self._pipe = pipe
        self.num_timesteps = calls

    def __getattr__(self, name):
        return getattr(self._pipe, name)


def plain_prompt(text: str, steps: int) -> str:
    """The prompt as plain text for the refiner's text encoder: no <lora:…> tags, the text in
    use at the end of prompt editing, weights and BREAK dropped."""
    text, _ = split_extra_networks(text or "")
    final = prompt_schedule(text, steps)[-1][1]
    return "".join(piece.text for piece in parse_weights(final) if not is_break(piece))


class RefinerPass:
    """The refiner's part of one ``run_generation`` (off when the request has no refiner)."""

    def __init__(self, request: GenerationRequest, loaded, reporter=None):
        sdxl = request.sdxl
        self.request = request
        self.enabled = sdxl is not None and sdxl.refined
        self.warnings: list[str] = []
        self.base_calls = self.calls = 0
        if not self.enabled:
            return
        self.switch = float(sdxl.refiner_switch)
        self.model = get_refiner(sdxl.refiner, loaded, reporter)
        self.base_planned, self.planned = self._split(loaded)
        prompt = plain_prompt(request.prompt, request.steps)
        negative = plain_prompt(request.negative_prompt, request.steps)
        self.prompts = dict(prompt=prompt, negative_prompt=negative or None)
        if prompt != split_extra_networks(request.prompt)[0].strip() or \
                negative != split_extra_networks(request.negative_prompt)[0].strip():
            self.warnings.append("The refiner reads the prompt as plain text (one text encoder): "
                                 "prompt weights, editing and BREAK apply to the base's steps.")
        if request.loras or request.embeddings:
            self.warnings.append("LoRAs and embeddings apply to the base model, not the refiner.")
        if request.guidance_cutoff < 1.0:
            self.warnings.append("The guidance cut-off and the Guidance page cover the base "
                                 "model's steps; the refiner guides every step.")

    def _split(self, loaded) -> tuple[int, int]:
        """Model calls of the base and the refiner, as diffusers will cut the schedule."""
        steps, name = self.request.steps, self.request.scheduler
        base = builder.make_scheduler(name, loaded.original_scheduler, steps=steps)
        refiner = builder.make_scheduler(name, self.model.original_scheduler, steps=steps)
        cutoff = base.config.num_train_timesteps * (1 - self.switch)
        for scheduler in (base, refiner):
            scheduler.set_timesteps(steps, device="cpu")
        base_calls = int((base.timesteps >= int(round(cutoff))).sum())
        refiner_calls = int((refiner.timesteps < int(round(cutoff))).sum())
        if refiner.order == 2 and refiner_calls % 2 == 0:
            refiner_calls += 1  # as the img2img pipeline's get_timesteps does
        if base_calls == 0 or refiner_calls == 0:
            raise UserFacingError(
                f"With {steps} steps a switch at {self.switch:g} leaves "
                f"{'the base' if base_calls == 0 else 'the refiner'} no step: move the switch "
                "or raise the steps.")
        return base_calls, refiner_calls

    @property
    def total(self) -> int:
        return self.base_planned + self.planned

    def base_kwargs(self) -> dict:
        return {"denoising_end": self.switch} if self.enabled else {}

    def base_callback(self, recorder):
        """The recorder as the base's ``callback_on_step_end``, counting the whole run."""
        if not self.enabled:
            return recorder
        return lambda pipe, i, t, kwargs: recorder(_WholeRun(pipe, self.total), i, t, kwargs)

    def run(self, latents, recorder, batch_seeds, width: int, height: int, cancel_event):
        """The refiner's steps on the base's ``latents``; the refined latents (not decoded)."""
        from engine.runtime import import_torch

        torch = import_torch()
        request = self.request
        pipe = self.model.pipe
        pipe.scheduler = builder.make_scheduler(request.scheduler, self.model.original_scheduler,
                                                steps=request.steps)
        offset = self.base_calls = recorder.steps_done
        base_capture, recorder.capture = recorder.capture, PredictionCapture(pipe.scheduler)
        recorder.step_hook, recorder.phase = None, "refiner "

        def on_step_end(p, i, t, kwargs):
            return recorder(_WholeRun(p, self.total), offset + i, t, kwargs)

        kwargs = dict(**self.prompts, image=latents, denoising_start=self.switch,
                      num_inference_steps=request.steps, num_images_per_prompt=request.batch_size,
                      guidance_scale=request.guidance_scale, output_type="latent",
                      generator=[torch.Generator("cpu").manual_seed(s) for s in batch_seeds],
                      callback_on_step_end=on_step_end, callback_on_step_end_tensor_inputs=["latents"],
                      **conditioning_kwargs(pipe, request, width, height))
        if request.guidance_rescale > 0:
            kwargs["guidance_rescale"] = request.guidance_rescale
        try:
            with out_of_memory_advice(width, height, request.batch_size), \
                    cancel_checks(cancel_event, pipe.unet), torch.inference_mode():
                return pipe(**kwargs).images
        finally:
            recorder.capture.restore()
            recorder.capture = base_capture
            self.calls = recorder.steps_done - offset

    def record(self) -> RefinerRecord | None:
        if not self.enabled:
            return None
        return RefinerRecord(name=refiner_name(self.model.location), switch=self.switch,
                             base_model_calls=self.base_calls or self.base_planned,
                             model_calls=self.calls or self.planned, shared=self.model.shared)
