"""Loading Stable Diffusion pipelines the way users have them, offline-aware and pickle-safe.

Sources: a Hugging Face Hub id, a local diffusers folder, or one checkpoint file (read with
``from_single_file``; its architecture config comes from a local diffusers folder when given,
else from the Hugging Face cache / Hub). Safetensors only unless the user allowed a pickle for
that file; ``trust_remote_code`` is never used. The loaded pipeline stays in memory between jobs.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import UserFacingError
from engine.stable_diffusion.denoiser_types import FLOW_DOWNLOAD_SIZES
from engine.stable_diffusion.devices import (
    PrecisionPlan,
    dtype_name,
    out_of_memory_advice,
    place_pipeline,
    plan_for,
)
from engine.stable_diffusion.families import detect_family
from engine.stable_diffusion.lora import NetworkState
from engine.stable_diffusion.prediction import (
    SINGLE_FILE_SD2_NOTE,
    prediction_type_problem,
    with_prediction_type,
)
from engine.stable_diffusion.speedups import SpeedState, apply_speedups, check_speed_options
from engine.stable_diffusion.types import (
    DEFAULT_MODEL_ID,
    PICKLE_SUFFIXES,
    CachedModel,
    CachedModelsRequest,
    LoadModelRequest,
    ModelInfo,
    ModelSource,
    PipelineOptions,
)

log = logging.getLogger(__name__)

# Download sizes users should expect (weights the app loads: UNet, VAE, text encoder).
KNOWN_DOWNLOAD_SIZES = {
    DEFAULT_MODEL_ID: "about 2.1 GB (fp16 weights) or 4.3 GB (fp32)",
    "stabilityai/stable-diffusion-2-1-base": "about 2.6 GB (fp16) or 5.2 GB (fp32)",
    "stabilityai/sd-turbo": "about 2.6 GB (fp16) or 5.2 GB (fp32)",
    "stabilityai/stable-diffusion-xl-base-1.0": "about 7 GB (fp16) or 14 GB (fp32)",
    "stabilityai/sdxl-turbo": "about 7 GB (fp16) or 14 GB (fp32)",
    # SD 3 / Flux (denoiser_types.py; the T5-XXL text encoder alone is 9.5 GB in 16 bits):
    **FLOW_DOWNLOAD_SIZES,
}
PICKLE_WARNING = ("{name} is a pickle file (.ckpt/.bin): loading it can run code hidden in it. "
                  "It was loaded because you allowed it for this file; prefer .safetensors.")
# Signature of an SDXL checkpoint in the original layout (its second text encoder).
_SDXL_KEY = "conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias"
# One quick look at the Hub before loading from it: huggingface_hub retries an unreachable
# network five times with backoff (1+2+4+8+8 s, per file), so without this an offline machine
# waits 10–30 s for the message. With it, the answer comes within this many seconds.
HUB_PROBE_TIMEOUT = 3.0
_UNET_IN_KEY = "model.diffusion_model.input_blocks.0.0.weight"


@dataclass
class LoadedPipeline:
    """A loaded model and everything the engine keeps about it.

    What we need to remember lives here, never as attributes set on the diffusers objects: the
    scheduler the model came with (runs swap in the sampler the user picked), the pipelines of
    the other modes (built once with ``from_pipe``, sharing the weights) and the handles of the
    VAE's dtype hooks.
    """

    source: ModelSource
    options: PipelineOptions
    pipe: object  # the text-to-image pipeline; other modes are built from it with from_pipe
    plan: PrecisionPlan
    info: ModelInfo
    original_scheduler: object = None  # None: the pipe's scheduler at construction
    mode_pipes: dict[str, object] = field(default_factory=dict)  # "img2img"/"inpaint" → pipeline
    vae_hooks: tuple = ()  # RemovableHandles of keep_vae_in_own_dtype (empty: none needed)
    speed: SpeedState = field(default_factory=SpeedState)  # channels_last, fused QKV, compile
    networks: NetworkState = field(default_factory=NetworkState)  # LoRAs, embeddings (lora.py)

    def __post_init__(self) -> None:
        if self.original_scheduler is None:
            self.original_scheduler = self.pipe.scheduler

    def owns(self, pipe) -> bool:
        """Whether ``pipe`` is this model's pipeline or one of its mode pipelines."""
        return pipe is self.pipe or any(pipe is other for other in self.mode_pipes.values())


_loaded: LoadedPipeline | None = None


def original_scheduler(loaded_or_pipe):
    """The scheduler the model came with, before any run swapped in the user's sampler.

    ``loaded_or_pipe``: a LoadedPipeline, or a pipeline (the loaded model's own pipelines
    answer from the LoadedPipeline; any other pipeline's current scheduler is its own, since
    the engine swaps schedulers only on pipelines it loaded).
    """
    if isinstance(loaded_or_pipe, LoadedPipeline):
        return loaded_or_pipe.original_scheduler
    if _loaded is not None and _loaded.owns(loaded_or_pipe):
        return _loaded.original_scheduler
    return loaded_or_pipe.scheduler


def loaded_pipeline() -> LoadedPipeline | None:
    return _loaded


def unload() -> None:
    """Forget the loaded model, so its memory goes before the next one loads.

    Dropping the references frees the weights (nothing else holds them). An explicit
    ``gc.collect()`` runs only on the main thread (the CLI): in the app's engine thread a cyclic
    collection can finalise Qt objects that belong to the GUI thread while that thread deletes
    widgets, which deadlocked once in the test suite.
    """
    global _loaded
    _loaded = None
    from engine.stable_diffusion.refiner import forget_refiner

    forget_refiner()  # an SDXL refiner shares the old model's VAE and text encoder
    import gc
    import threading

    if threading.current_thread() is threading.main_thread():
        gc.collect()


def get_pipeline(source: ModelSource, options: PipelineOptions, reporter=None) -> LoadedPipeline:
    """The pipeline for ``source``; loads it (replacing the previous one) only when needed."""
    global _loaded
    check_speed_options(options, plan_for(options).attention_slicing)
    same_model = (_loaded is not None and _loaded.source == source
                  and _loaded.options.load_options() == options.load_options())
    if not same_model:
        if _loaded is not None:
            unload()  # free the old model's memory before loading the next one
        _loaded = _load(source, options, reporter)
    apply_speedups(_loaded, options)  # in place, never a reload
    _loaded.options = options
    return _loaded


def load_model_job(request: LoadModelRequest, reporter) -> ModelInfo:
    """Job handler: load (or reuse) a pipeline and describe it."""
    return get_pipeline(request.source, request.options, reporter).info


def cached_models_job(request: CachedModelsRequest, reporter) -> tuple[CachedModel, ...]:
    return tuple(cached_models())


# ---------------------------------------------------------------------------------------------
def _load(source: ModelSource, options: PipelineOptions, reporter) -> LoadedPipeline:
    from engine.runtime import import_torch

    torch = import_torch()
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()  # progress goes through the reporter instead
    diffusers_logging.set_verbosity_error()  # e.g. "install accelerate": noise for users
    started = time.perf_counter()
    plan = plan_for(options)
    torch_dtype = getattr(torch, plan.dtype)
    warnings: list[str] = []
    if plan.device == "cpu" and plan.dtype == "bfloat16":
        from engine.device import cpu_bf16_support

        fast, why = cpu_bf16_support(torch)
        if not fast:
            warnings.append(f"bfloat16 will be slow here: {why}. float32 is faster on this CPU.")
    if reporter is not None:
        reporter.progress(0, 2, f"Loading {source.label}…")
    kind = source.kind
    problem = prediction_type_problem(source.prediction_type)
    if problem:
        raise UserFacingError(problem[0].upper() + problem[1:] + ".")
    if kind == "hub" and _looks_like_path(source.location):
        raise UserFacingError(f"{source.location} does not exist. Choose an existing diffusers "
                              "folder or .safetensors file, or enter a Hub id like "
                              f"{DEFAULT_MODEL_ID}.")
    if kind == "single_file":
        pipe = _load_single_file(source, torch_dtype, warnings)
    elif kind == "folder":
        pipe = _load_folder(source, torch_dtype, warnings)
    else:
        pipe = _load_hub(source, torch_dtype)
    with_prediction_type(pipe, source.prediction_type)  # the user's word over the config's
    if reporter is not None:
        reporter.progress(1, 2, f"Moving {source.label} to {plan.device}…")
    with out_of_memory_advice(loading=True):
        vae_hooks = place_pipeline(pipe, plan, options, warnings)
    pipe.set_progress_bar_config(disable=True)
    if reporter is not None:
        reporter.progress(2, 2, "Loaded")
    from engine.stable_diffusion.denoisers import load_warnings

    warnings += load_warnings(pipe, plan)  # SD 3/Flux: float16, attention slicing
    info = _describe(pipe, source, plan, time.perf_counter() - started, warnings)
    log.info("loaded %s as %s on %s/%s in %.1f s", source.location, info.pipeline_class,
             plan.device, plan.dtype, info.seconds)
    return LoadedPipeline(source, options, pipe, plan, info, vae_hooks=vae_hooks)


def _looks_like_path(location: str) -> bool:
    """Hub ids are ``owner/name``; anything with more separators, a drive or ~ is a path."""
    return (location.startswith(("/", "~", ".", "\\")) or location.count("/") > 1
            or "\\" in location or (len(location) > 1 and location[1] == ":"))


def _common_kwargs(torch_dtype, single_file: bool = False) -> dict:
    # No safety checker: this is a learning tool that shows every step; the web UIs skip it too.
    # (from_pretrained renamed torch_dtype to dtype; from_single_file still takes torch_dtype.)
    key = "torch_dtype" if single_file else "dtype"
    return {key: torch_dtype, "safety_checker": None, "requires_safety_checker": False}


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT) -> bool:
    """Whether the Hugging Face endpoint answers at all (any HTTP status counts), without the
    library's retries. False in offline mode."""
    if _offline_mode():
        return False
    from huggingface_hub import constants, get_session

    try:
        get_session().request("HEAD", constants.ENDPOINT, timeout=timeout, follow_redirects=False)
    except Exception as exc:  # connection refused, DNS failure, timeout, proxy error, …
        log.info("the Hugging Face Hub at %s cannot be reached: %s", constants.ENDPOINT, exc)
        return False
    return True


def _load_hub(source: ModelSource, torch_dtype):
    from diffusers import AutoPipelineForText2Image

    kwargs = {**_common_kwargs(torch_dtype), "use_safetensors": True}
    if not hub_reachable():
        kwargs["local_files_only"] = True  # the cache only: no retries against a dead network
    try:
        if "float16" in str(torch_dtype):
            try:
                return AutoPipelineForText2Image.from_pretrained(source.location, variant="fp16", **kwargs)
            except (OSError, ValueError) as exc:
                if _is_offline_error(exc):
                    raise
                log.info("no fp16 variant of %s (%s); loading the default weights", source.location, exc)
        return AutoPipelineForText2Image.from_pretrained(source.location, **kwargs)
    except Exception as exc:
        raise _friendly_hub_error(exc, source) from exc


def _load_folder(source: ModelSource, torch_dtype, warnings: list[str]):
    from diffusers import AutoPipelineForText2Image

    folder = Path(os.path.expanduser(source.location))
    if not (folder / "model_index.json").is_file():
        raise UserFacingError(
            f"{folder} is not a diffusers pipeline folder (it has no model_index.json). Choose the "
            "folder that contains model_index.json, unet/, vae/ and text_encoder/, or a single "
            ".safetensors checkpoint file.")
    has_safetensors = any(folder.rglob("*.safetensors"))
    has_pickles = any(p.suffix in PICKLE_SUFFIXES for p in folder.rglob("*") if p.is_file())
    if not has_safetensors and has_pickles and not source.allow_pickle:
        raise UserFacingError(
            f"{folder.name} holds only pickle weights (.bin), which can run code when loaded. "
            "Get a safetensors version of the model, or allow pickles for this folder if you "
            "trust where it came from.")
    use_safetensors = True if not source.allow_pickle else None
    if source.allow_pickle and has_pickles:
        warnings.append(PICKLE_WARNING.format(name=folder.name))
    try:
        return AutoPipelineForText2Image.from_pretrained(
            str(folder), local_files_only=True, use_safetensors=use_safetensors,
            **_common_kwargs(torch_dtype))
    except (OSError, ValueError) as exc:
        raise UserFacingError(f"Could not load the diffusers folder {folder}: "
                              f"{str(exc).splitlines()[0]}") from exc


def _load_single_file(source: ModelSource, torch_dtype, warnings: list[str]):
    import diffusers

    path = Path(os.path.expanduser(source.location))
    if not path.is_file():
        raise UserFacingError(f"The checkpoint file {path} does not exist. Check the path.")
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        if not source.allow_pickle:
            raise UserFacingError(
                f"{path.name} is a pickle checkpoint ({suffix}). Pickles can run arbitrary code "
                "when loaded, so the app does not open them by default. Use a .safetensors "
                "version of this model, or explicitly allow pickles for this file if you trust "
                "its source.")
        warnings.append(PICKLE_WARNING.format(name=path.name))
        log.warning("loading pickle checkpoint %s because the user allowed it", path)
    elif suffix != ".safetensors":
        raise UserFacingError(f"{path.name} is not a checkpoint the app can read; choose a "
                              ".safetensors file (or a diffusers folder).")

    config = _config_folder_for(path, source.config)
    class_name = _single_file_class(path, config)
    pipeline_class = getattr(diffusers, class_name)
    kwargs = _common_kwargs(torch_dtype, single_file=True)
    if pipeline_class.__name__.startswith("StableDiffusionXL"):
        kwargs.pop("safety_checker")
        kwargs.pop("requires_safety_checker")
    if config is not None:
        kwargs["config"] = str(config)
    elif not hub_reachable():
        kwargs["local_files_only"] = True  # the config from the cache only (see hub_reachable)
    try:
        return pipeline_class.from_single_file(str(path), **kwargs)
    except Exception as exc:
        if _is_offline_error(exc) or config is None and isinstance(exc, OSError):
            raise UserFacingError(
                f"{path.name} needs its architecture config (model_index.json and the "
                "component configs of the matching base model), which is not in the Hugging "
                "Face cache and cannot be downloaded "
                + ("because offline mode is on (HF_HUB_OFFLINE=1)" if _offline_mode() else "now")
                + ". Choose a local diffusers folder of the same model family as the config "
                  "folder, or go online once so the config (a few kB) can be cached."
                + SINGLE_FILE_SD2_NOTE) from exc
        raise UserFacingError(f"Could not read {path.name} as a Stable Diffusion checkpoint: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc


def _config_folder_for(path: Path, explicit: str | None) -> Path | None:
    """The explicit config folder, else a diffusers folder next to the file with the same stem."""
    if explicit:
        folder = Path(os.path.expanduser(explicit))
        if not (folder / "model_index.json").is_file():
            raise UserFacingError(f"The config folder {folder} has no model_index.json; choose a "
                                  "diffusers pipeline folder of the same model family.")
        return folder
    sibling = path.with_suffix("")
    if (sibling / "model_index.json").is_file():
        return sibling
    return None


def _single_file_class(path: Path, config: Path | None) -> str:
    """The pipeline class: from the config folder if there is one, else from the file's keys."""
    if config is not None:
        name = json.loads((config / "model_index.json").read_text(encoding="utf-8"))["_class_name"]
        return name if name.startswith("StableDiffusion") else "StableDiffusionPipeline"
    if path.suffix.lower() != ".safetensors":
        return "StableDiffusionPipeline"
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        keys = set(handle.keys())
        sdxl = _SDXL_KEY in keys
        in_channels = handle.get_slice(_UNET_IN_KEY).get_shape()[1] if _UNET_IN_KEY in keys else 4
    if sdxl:
        return "StableDiffusionXLInpaintPipeline" if in_channels == 9 else "StableDiffusionXLPipeline"
    return "StableDiffusionInpaintPipeline" if in_channels == 9 else "StableDiffusionPipeline"


# ---------------------------------------------------------------------------------------------
def _offline_mode() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "") in ("1", "ON", "YES", "TRUE")


def _exception_chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _is_offline_error(exc: BaseException) -> bool:
    names = {"OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectionError", "ConnectError",
             "ConnectTimeout", "ProxyError"}
    return any(type(e).__name__ in names for e in _exception_chain(exc))


def _friendly_hub_error(exc: BaseException, source: ModelSource) -> Exception:
    from huggingface_hub import constants

    chain_names = {type(e).__name__ for e in _exception_chain(exc)}
    size = KNOWN_DOWNLOAD_SIZES.get(source.location, "several GB")
    where = constants.HF_HUB_CACHE
    if _is_offline_error(exc):
        reason = ("offline mode is on (HF_HUB_OFFLINE=1)" if _offline_mode()
                  else "the Hugging Face Hub cannot be reached")
        return UserFacingError(
            f"The model {source.location} is not in the Hugging Face cache and {reason}. "
            f"Downloading it needs {size}, stored in {where}. To use it, go online "
            "(and unset HF_HUB_OFFLINE) and load it again; or choose a local diffusers folder "
            "or a .safetensors checkpoint file you already have.")
    if "RepositoryNotFoundError" in chain_names or "GatedRepoError" in chain_names:
        return UserFacingError(
            f"The Hub has no public model called {source.location} (or it needs you to log in "
            "and accept its licence: run `hf auth login`). Check the id, e.g. "
            f"{DEFAULT_MODEL_ID}.")
    if isinstance(exc, (OSError, ValueError)) and "safetensors" in str(exc).lower():
        return UserFacingError(
            f"{source.location} has no safetensors weights, only pickles, which the app does "
            "not load from the Hub. Choose another model, or download it and allow pickles for "
            "that local folder if you trust it.")
    if isinstance(exc, UserFacingError):
        return exc
    return UserFacingError(f"Could not load {source.location}: "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def _describe(pipe, source: ModelSource, plan: PrecisionPlan, seconds: float,
              warnings: list[str]) -> ModelInfo:
    from engine.stable_diffusion import denoisers  # UNet or transformer (SD 3, Flux)

    scale = getattr(pipe, "vae_scale_factor", 8)
    return ModelInfo(
        label=source.label,
        kind=source.kind,
        pipeline_class=type(pipe).__name__,
        device=plan.device,
        dtype=dtype_name(denoisers.denoiser(pipe).dtype),
        vae_dtype=dtype_name(pipe.vae.dtype),
        is_inpainting_model=denoisers.is_inpainting_model(pipe),
        latent_channels=pipe.vae.config.latent_channels,
        vae_scale_factor=scale,
        default_size=denoisers.default_sample_size(pipe) * scale,
        max_tokens=int(pipe.tokenizer.model_max_length),
        seconds=round(seconds, 2),
        warnings=tuple(warnings),
        family=detect_family(pipe),
    )


# ---------------------------------------------------------------------------------------------
def cached_models(cache_dir: str | None = None) -> list[CachedModel]:
    """Diffusers pipelines (repos with a model_index.json) in the Hugging Face cache."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    found = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        if not any(f.file_name == "model_index.json" for rev in repo.revisions for f in rev.files):
            continue
        found.append(CachedModel(repo.repo_id, repo.size_on_disk, str(repo.repo_path),
                                 len(repo.revisions)))
    return sorted(found, key=lambda m: m.repo_id.lower())
