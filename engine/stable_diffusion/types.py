"""Requests and results of the Stable Diffusion jobs (torch-free: the GUI builds these).

Results carry numpy arrays and plain data only, so nothing torch crosses the thread boundary.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.stable_diffusion import families, hires_types, preview_types
from engine.stable_diffusion.attention_maps import AttentionMaps
from engine.stable_diffusion.sdxl_types import RefinerRecord, SdxlOptions

DEFAULT_MODEL_ID = "stable-diffusion-v1-5/stable-diffusion-v1-5"
MODES = ("txt2img", "img2img", "inpaint", "outpaint")
PICKLE_SUFFIXES = (".ckpt", ".bin", ".pt", ".pth", ".pkl")
# Scheduler choices shown to users, in menu order: each is an entry of the one sampler
# registry (engine/samplers/registry.py: diffusers class, overrides, A1111 name).
SCHEDULER_NAMES = (
    "default",
    "DDIM",
    "DDPM",
    "PNDM",
    "Euler",
    "Euler ancestral",
    "DPM-Solver++ 2M",
    "DPM-Solver++ 2M Karras",
    "UniPC",
    "LCM",
    "Flow-matching Euler", "DPM-Solver++ 2M (flow)", "UniPC (flow)",  # SD 3/Flux (denoiser_types)
)
# Limits every request is checked against before anything loads (the GUI's spin boxes and the
# CLI's help text state the same numbers). Steps as in AUTOMATIC1111.
MIN_STEPS, MAX_STEPS = 1, 150
MIN_SIZE, MAX_SIZE = 64, 2048  # pixels, each side, multiples of 8 (also after outpainting)
MAX_BATCH_SIZE, MAX_BATCH_COUNT = 8, 100
MAX_MASK_FEATHER = 256  # px
MIN_STRENGTH = 0.01  # img2img/inpaint: the share of the steps that runs (as A1111's 0.01 steps)
MAX_SEED = 2**32 - 1
DEFAULT_RECORDING_BUDGET_MB = 512
DEFAULT_ATTENTION_BUDGET_MB = 256


@dataclass(frozen=True)
class ModelSource:
    """Where a pipeline comes from: a Hub id, a diffusers folder or one checkpoint file.

    ``config`` (single files only) is a local diffusers folder whose configs describe the file's
    architecture; without it the config must come from the Hugging Face cache or the Hub.
    ``allow_pickle`` is the user's explicit consent to unpickle *this* file (.ckpt/.bin).
    """

    location: str = DEFAULT_MODEL_ID
    config: str | None = None
    allow_pickle: bool = False
    prediction_type: str | None = None  # None: the model's own; "v_prediction" (prediction.py)

    @property
    def kind(self) -> str:
        path = Path(os.path.expanduser(self.location))
        if path.is_dir():
            return "folder"
        if path.is_file() or path.suffix.lower() in (".safetensors",) + PICKLE_SUFFIXES:
            return "single_file"
        return "hub"

    @property
    def label(self) -> str:
        if self.kind == "hub":
            return self.location
        return Path(self.location).name or self.location


@dataclass(frozen=True)
class PipelineOptions:
    """Device, precision, memory and speed options; ``device`` None = the engine's choice.

    The speed options (``SPEED_OPTIONS``) change the loaded model in place, without reloading
    it (engine/stable_diffusion/speedups.py); the others need a reload.
    """

    device: str | None = None
    dtype: str | None = None  # None: fp16 on CUDA/MPS, fp32 on CPU; "bfloat16": bf16 on a CPU
    attention_slicing: bool = False
    vae_tiling: bool = False
    cpu_offload: bool = False
    channels_last: bool = False  # the UNet's weights and activations in NHWC memory layout
    fuse_qkv: bool = False  # one matmul for the attention's query, key and value projections
    compile_unet: bool = False  # torch.compile the UNet (compiled once per session and size)

    def load_options(self) -> PipelineOptions:
        """These options without the speed options: what decides whether to reload."""
        return replace(self, **{name: False for name in SPEED_OPTIONS})


SPEED_OPTIONS = ("channels_last", "fuse_qkv", "compile_unet")
DTYPE_CHOICES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class NetworkFile:
    """A LoRA (with its weight) or a textual-inversion embedding file (weight unused).

    ``allow_pickle``: the user's consent to unpickle *this* file (.pt/.ckpt/.bin), as for
    checkpoints; never taken from a stored record.
    """

    path: str
    weight: float = 1.0
    allow_pickle: bool = False

    @property
    def name(self) -> str:
        return Path(self.path).stem


@dataclass(frozen=True)
class LoadModelRequest:
    source: ModelSource = field(default_factory=ModelSource)
    options: PipelineOptions = field(default_factory=PipelineOptions)


@dataclass(frozen=True)
class ModelInfo:
    label: str
    kind: str  # "hub" | "folder" | "single_file"
    pipeline_class: str
    device: str
    dtype: str
    vae_dtype: str
    is_inpainting_model: bool
    latent_channels: int
    vae_scale_factor: int
    default_size: int  # the resolution the UNet was trained at, in pixels
    max_tokens: int
    seconds: float
    warnings: tuple[str, ...] = ()
    family: families.ModelFamily | None = None  # SD 1.x, SD 2.x, SDXL, … (families.py)


@dataclass(frozen=True)
class CachedModelsRequest:
    """List Stable Diffusion pipelines already in the Hugging Face cache (no network)."""


@dataclass(frozen=True)
class CachedModel:
    repo_id: str
    size_bytes: int
    path: str
    revisions: int


@dataclass(frozen=True)
class GenerationRequest:
    """One txt2img / img2img / inpaint / outpaint run (batch_count × batch_size images)."""

    prompt: str
    source: ModelSource = field(default_factory=ModelSource)
    options: PipelineOptions = field(default_factory=PipelineOptions)
    mode: str = "txt2img"
    negative_prompt: str = ""
    steps: int = 25
    guidance_scale: float = 7.5
    seed: int | None = None  # None: a random seed, reported in the result
    width: int = 512
    height: int = 512
    native_size: bool = False  # txt2img: width/height stand in until the model says (generation.py)
    batch_size: int = 1
    batch_count: int = 1
    scheduler: str = "default"
    init_image: np.ndarray | None = field(default=None, compare=False)  # HxWx3 uint8
    strength: float = 0.75
    mask: np.ndarray | None = field(default=None, compare=False)  # HxW uint8, 255 = repaint
    mask_feather: int = 0  # blur radius in px applied to the mask's edge
    outpaint: tuple[int, int, int, int] = (0, 0, 0, 0)  # left, top, right, bottom, px
    preview_every: int = 1  # live preview every N steps (0: none)
    record_steps: bool = True
    # Memory for the recorded x_t and x̂₀ of the steps, all batches (MB = 2**20 bytes; 0: no
    # recording). Over it: float16, then fewer steps (engine/stable_diffusion/recording.py).
    # The guidance branches (guidance.py) are kept within a budget of the same size.
    recording_budget_mb: int = DEFAULT_RECORDING_BUDGET_MB

    overlay: bool = True  # inpaint/outpaint: keep the input's own pixels outside the mask
    # Attention maps per prompt token and the self-attention probe (attention_capture.py):
    # the means over all steps first, single steps within what is left of the budget.
    capture_attention: bool = False
    attention_budget_mb: int = DEFAULT_ATTENTION_BUDGET_MB
    # Guidance taken apart (engine/stable_diffusion/guidance.py): classifier-free guidance for
    # the first ⌈cutoff × model calls⌉ steps only (1 = all; after it the UNet batch halves), and
    # guidance rescale φ (Lin et al. 2023; 0 = off).
    guidance_cutoff: float = 1.0
    guidance_rescale: float = 0.0
    # LoRAs with their weights and textual-inversion embeddings (engine/stable_diffusion/lora.py);
    # ``lora_dir`` is where ``<lora:name:w>`` tags in the prompt are looked up.
    loras: tuple[NetworkFile, ...] = ()
    embeddings: tuple[NetworkFile, ...] = ()
    lora_dir: str | None = None
    # Hires fix (hires.py; txt2img): upscale ×hires_scale (1 = off), then img2img at strength.
    hires_scale: float = 1.0
    hires_strength: float = 0.7
    hires_steps: int = 0  # 0: ``steps``; as in img2img, int(steps × strength) of them run
    hires_upscaler: str = "latent"
    # A diffusers upscaler (folder or cached hub id) instead of hires_upscaler (upscalers.py).
    hires_upscaler_model: str | None = None
    zero_snr: bool = False  # rescale to zero terminal SNR, trailing steps (v-models: prediction.py)
    preview_decoder: str | None = None  # TAESD folder/hub id for previews (preview_decoder.py)
    sdxl: SdxlOptions | None = None  # SDXL micro-conditioning and refiner (sdxl_types.py)

    def __post_init__(self) -> None:
        problems = request_problems(self)
        if problems:
            text = "; ".join(problems)
            raise ValueError(text[0].upper() + text[1:] + ".")

    @property
    def output_size(self) -> tuple[int, int]:
        """(width, height) of the images: outpainting adds its margins to the input's size."""
        left, top, right, bottom = self.outpaint if self.mode == "outpaint" else (0, 0, 0, 0)
        return self.width + left + right, self.height + top + bottom

    @property
    def hires_enabled(self) -> bool:  # a scale of 1 is off: exactly the plain image
        return _is_number(self.hires_scale) and self.hires_scale > 1.0

    @property
    def hires_output_size(self) -> tuple[int, int]:
        """(width, height) after the hires fix: ×hires_scale, rounded to multiples of 8."""
        scale = self.hires_scale if self.hires_enabled else 1.0
        return hires_types.scaled_size(self.width, self.height, scale)

    def parameters(self) -> dict:
        """The full request as plain data (images summarised by their shape)."""
        data = {
            "mode": self.mode,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "steps": self.steps,
            "guidance_scale": self.guidance_scale,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "batch_size": self.batch_size,
            "batch_count": self.batch_count,
            "scheduler": self.scheduler,
            "model": self.source.location,
            "model_config": self.source.config,
        }
        if self.mode != "txt2img":
            # Outpainting always starts the new area from pure noise.
            data["strength"] = 1.0 if self.mode == "outpaint" else self.strength
            data["init_image_size"] = list(self.init_image.shape[:2][::-1])
        if self.mode == "inpaint":
            data["mask_feather"] = self.mask_feather
        if self.mode == "outpaint":
            data["outpaint"] = list(self.outpaint)
        if self.mode in ("inpaint", "outpaint"):
            data["overlay"] = self.overlay
        if self.guidance_cutoff < 1.0:
            data["guidance_cutoff"] = self.guidance_cutoff
        if self.guidance_rescale > 0.0:
            data["guidance_rescale"] = self.guidance_rescale
        if self.hires_enabled:
            data.update({name: getattr(self, name) for name in hires_types.HIRES_FIELDS})
            if self.hires_upscaler_model:
                data["hires_upscaler_model"] = self.hires_upscaler_model
        return data


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def request_problems(request: GenerationRequest) -> list[str]:
    """Everything wrong with a request, as phrases; checked before any model loads."""
    r = request
    problems = []
    if r.mode not in MODES:
        problems.append(f"unknown mode {r.mode!r} (choose {', '.join(MODES)})")
    if r.scheduler not in SCHEDULER_NAMES:
        problems.append(f"unknown scheduler {r.scheduler!r} (choose {', '.join(SCHEDULER_NAMES)})")
    if not _is_int(r.steps) or not MIN_STEPS <= r.steps <= MAX_STEPS:
        problems.append(f"steps must be a whole number from {MIN_STEPS} to {MAX_STEPS}")
    if not _is_number(r.guidance_scale) or not math.isfinite(r.guidance_scale) \
            or r.guidance_scale < 0:
        problems.append("the guidance scale must be a finite number ≥ 0")
    sizes_ok = all(_is_int(v) and MIN_SIZE <= v <= MAX_SIZE and v % 8 == 0
                   for v in (r.width, r.height))
    if not sizes_ok:
        problems.append(f"width and height must be multiples of 8 from {MIN_SIZE} to {MAX_SIZE} px")
    if not (_is_int(r.batch_size) and 1 <= r.batch_size <= MAX_BATCH_SIZE
            and _is_int(r.batch_count) and 1 <= r.batch_count <= MAX_BATCH_COUNT):
        problems.append(f"the batch size must be 1–{MAX_BATCH_SIZE} and the batch count "
                        f"1–{MAX_BATCH_COUNT}")
    if not _is_number(r.strength) or not MIN_STRENGTH <= r.strength <= 1.0:
        problems.append(f"strength must be from {MIN_STRENGTH} to 1")
    if not _is_int(r.mask_feather) or not 0 <= r.mask_feather <= MAX_MASK_FEATHER:
        problems.append(f"the mask feather must be 0–{MAX_MASK_FEATHER} px")
    if r.mode != "txt2img" and r.init_image is None:
        problems.append(f"{r.mode} needs an input image")
    if r.mode == "inpaint" and r.mask is None:
        problems.append("inpainting needs a mask (white = repaint)")
    margins_ok = (len(r.outpaint) == 4 and all(_is_int(side) and side >= 0 and side % 8 == 0
                                               for side in r.outpaint))
    if not margins_ok:
        problems.append("outpaint margins must be four non-negative multiples of 8")
    elif r.mode == "outpaint":
        if not any(r.outpaint):
            problems.append("outpainting needs at least one side to extend")
        elif sizes_ok and max(r.output_size) > MAX_SIZE:
            width, height = r.output_size
            problems.append(f"the outpainted image would be {width}×{height} px; each side may be "
                            f"at most {MAX_SIZE} px (smaller margins or a smaller input size)")
    for name, value in (("guidance cut-off", r.guidance_cutoff),
                        ("guidance rescale", r.guidance_rescale)):
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            problems.append(f"the {name} must be a number from 0 to 1")
    if not _is_int(r.recording_budget_mb) or r.recording_budget_mb < 0:
        problems.append("the recording budget must be a whole number of MB ≥ 0")
    if not _is_int(r.attention_budget_mb) or r.attention_budget_mb < 0:
        problems.append("the attention budget must be a whole number of MB ≥ 0")
    if not all(isinstance(n, NetworkFile) and _is_number(n.weight) and math.isfinite(n.weight)
               for n in (*r.loras, *r.embeddings)):
        problems.append("each LoRA needs a file and a finite weight")
    problems += hires_types.hires_problems(r, MIN_STRENGTH, MAX_STEPS, MAX_SIZE)
    if r.seed is not None and (not _is_int(r.seed) or not 0 <= r.seed <= MAX_SEED):
        problems.append(f"the seed must be a whole number from 0 to {MAX_SEED}")
    return problems


@dataclass(frozen=True)
class StepPreview:
    """Live data of one denoising step (sent every ``preview_every`` steps)."""

    image_index: int  # which batch (0-based) of batch_count
    step: int  # 1-based
    total_steps: int
    timestep: float
    preview: np.ndarray  # hxwx3 uint8 from x̂₀ via the cheap latent→RGB map (latent size)
    latents: np.ndarray  # 4xhxw float32: x_t of the first image of the batch after this step
    # ``step``/``total_steps`` count model calls; the steps the user asked for can differ
    # (PNDM makes 26 calls for 25 steps; img2img's strength skips some).
    requested_steps: int = 0

    @property
    def steps_text(self) -> str:
        return steps_text(self.requested_steps or self.total_steps, self.total_steps)


def steps_text(steps: int, model_calls: int) -> str:
    """"25 steps", or "25 steps (26 model calls)" when the sampler makes another number of calls."""
    text = f"{steps} step" + ("" if steps == 1 else "s")
    if model_calls and model_calls != steps:
        text += f" ({model_calls} model call" + ("" if model_calls == 1 else "s") + ")"
    return text


@dataclass(frozen=True)
class Overlay:
    """What inpainting/outpainting keeps: the input at the output's size and the (feathered)
    mask, 255 = generated, 0 = the input's own pixels, in between a blend."""

    image: np.ndarray = field(compare=False)  # HxWx3 uint8
    mask: np.ndarray = field(compare=False)  # HxW uint8


@dataclass(frozen=True)
class TokenInfo:
    tokens: tuple[str, ...]  # the prompt's tokens, without start/end markers
    max_tokens: int  # what the text encoder reads, including start and end markers (77)
    truncated_text: str  # the part of the prompt that is cut off ("" when it fits)
    # Prompt syntax (prompt_syntax.py), per token: its attention weight (() = all 1.0), the
    # 75-token chunk it is encoded in (() = all in the first) and its column in the text
    # encoder's output (chunk × 77 + 1 + place in the chunk; () = 1, 2, 3, …).
    weights: tuple[float, ...] = ()
    chunk_of: tuple[int, ...] = ()
    positions: tuple[int, ...] = ()
    steps: str = ""  # with prompt editing/alternation: the steps this text is used ("1–16")
    later: tuple[TokenInfo, ...] = ()  # the prompt's other texts in editing/alternation

    @property
    def count(self) -> int:
        return len(self.tokens)

    @property
    def chunks(self) -> int:
        return max(self.chunk_of, default=0) + 1

    @property
    def usable(self) -> int:
        return self.max_tokens - 2

    @property
    def warning(self) -> str:
        if not self.truncated_text:
            return ""
        return (f"The prompt has {self.count} tokens but the text encoder reads only {self.usable} "
                f"(+ start/end markers); this part is ignored: “{self.truncated_text}”")


@dataclass(frozen=True)
class TokensRequest:
    prompt: str
    source: ModelSource = field(default_factory=ModelSource)
    steps: int = 25  # for prompt editing's fractions ([a:b:0.5])


@dataclass(frozen=True)
class GuidanceRecord:
    """Classifier-free guidance taken apart, one run (engine/stable_diffusion/guidance.py).

    Per recorded batch, arrays of (recorded steps, batch_size, 4, h, w): the model's output for
    the unconditional (or negative-prompt) branch and the conditional one, and the x̂₀ each
    implies; float32, float16 when the memory budget needed it. Rows after the guidance
    cut-off have no unconditional branch (``has_unconditional`` False, those rows hold NaN).
    ``norms``: per batch (model calls, 4, batch_size) float32, the RMS of ε̂(∅), ε̂(c),
    ε̂(c) − ε̂(∅) and the guided ε̂ (engine.samplers.guidance.NORM_NAMES) at every step.
    """

    steps: tuple[int, ...] = ()  # 1-based model calls of the recorded rows
    timesteps: tuple[float, ...] = ()  # of the recorded rows
    unconditional: tuple[np.ndarray, ...] = ()
    conditional: tuple[np.ndarray, ...] = ()
    pred_unconditional: tuple[np.ndarray, ...] = ()
    pred_conditional: tuple[np.ndarray, ...] = ()
    has_unconditional: tuple[bool, ...] = ()  # per recorded row
    norms: tuple[np.ndarray, ...] = ()
    guidance_scale: float = 7.5
    guided_steps: int = 0  # model calls with both branches (all of them without a cut-off)
    model_calls: int = 0
    rescale: float = 0.0
    negative_prompt: str = ""
    prediction_type: str = "epsilon"
    note: str = ""  # what the memory budget left out, or why there is nothing to take apart

    def row(self, step: int) -> int | None:
        """The recorded row of 1-based model call ``step`` (None: not recorded)."""
        return self.steps.index(step) if step in self.steps else None


@dataclass(frozen=True)
class GenerationResult:
    images: tuple[np.ndarray, ...]  # HxWx3 uint8, batch_count × batch_size of them
    seeds: tuple[int, ...]  # one per image
    parameters: dict  # GenerationRequest.parameters() with the seed filled in
    timesteps: tuple[float, ...]  # of the recorded steps
    # Per recorded batch: (recorded steps, batch_size, 4, h, w) arrays, float32 (float16 when
    # the recording budget needed it); empty if not recorded. A cancelled batch holds a prefix.
    step_latents: tuple[np.ndarray, ...] = ()
    step_predictions: tuple[np.ndarray, ...] = ()  # x̂₀ per step, same shapes
    # 1-based step numbers (model calls) of the recorded rows, aligned with ``timesteps``: all
    # of them (1, 2, …) unless the recording budget thinned them (1, 5, 9, …, last).
    recorded_steps: tuple[int, ...] = ()
    tokens: TokenInfo | None = None
    negative_tokens: TokenInfo | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    steps_done: int = 0  # model calls done, all batches together (fewer when cancelled)
    cancelled: bool = False
    model: str = ""
    scheduler_class: str = ""
    latent_scaling_factor: float = 0.18215
    model_info: ModelInfo | None = None
    requested_steps: int = 0  # the steps asked for (the PNG's "Steps: 25")
    model_calls: int = 0  # UNet calls per image for the whole run (PNDM: 26 for 25 steps)
    # Inpaint/outpaint with overlay on: what decoded frames are composited with (pass it on in
    # DecodeLatentsRequest.overlay so the step slider shows the same composite).
    overlay: Overlay | None = None
    # Cancelled mid-batch: x̂₀ (batch_size×4×h×w, scaled latents) of the unfinished batch at its
    # last finished step; not decoded (decode on demand with DecodeLatentsRequest).
    partial_latents: np.ndarray | None = field(default=None, compare=False)
    # capture_attention: the attention maps (engine/stable_diffusion/attention_maps.py).
    attention: AttentionMaps | None = field(default=None, compare=False)
    guidance: GuidanceRecord | None = None  # the two branches of every step (guidance.py)
    hires: hires_types.HiresRecord | None = field(default=None, compare=False)  # the hires fix's pass
    preview_decoder: preview_types.PreviewDecoderRecord | None = None  # its cost, or why not used
    refiner: RefinerRecord | None = None  # where the SDXL refiner took over (sdxl_types.py)

    @property
    def seed(self) -> int:
        return self.seeds[0]

    def step_number(self, position: int) -> int:
        """The step (1-based model call) recorded at row ``position`` (1-based, as the step
        slider counts); ``position`` itself when no step numbers were recorded."""
        if 1 <= position <= len(self.recorded_steps):
            return self.recorded_steps[position - 1]
        return position

    @property
    def steps_text(self) -> str:
        """"25 steps (26 model calls)" for captions (just "25 steps" when they agree)."""
        return steps_text(self.requested_steps, self.model_calls)


@dataclass(frozen=True)
class DecodeLatentsRequest:
    """Decode recorded latents (``4xhxw``, already scaled like SD's latents) with the loaded VAE."""

    latents: np.ndarray = field(compare=False)
    source: ModelSource = field(default_factory=ModelSource)
    options: PipelineOptions = field(default_factory=PipelineOptions)
    tag: object = None  # echoed back, e.g. (batch, step, kind) for the GUI's frame cache
    overlay: Overlay | None = None  # GenerationResult.overlay: composite like the final image


@dataclass(frozen=True)
class DecodedImage:
    image: np.ndarray
    tag: object = None


@dataclass(frozen=True)
class VaeRoundTripRequest:
    image: np.ndarray = field(compare=False)  # HxWx3 uint8
    source: ModelSource = field(default_factory=ModelSource)
    options: PipelineOptions = field(default_factory=PipelineOptions)


@dataclass(frozen=True)
class VaeRoundTripResult:
    original: np.ndarray
    latents: np.ndarray  # 4xhxw float32 (scaled)
    reconstruction: np.ndarray
    psnr_db: float


@dataclass(frozen=True)
class ComparisonGridRequest:
    """One prompt and seed across several values of one parameter, as a labelled grid."""

    base: GenerationRequest
    vary: str  # "guidance_scale" | "steps" | "scheduler"
    values: tuple = ()


@dataclass(frozen=True)
class ComparisonGridResult:
    vary: str
    values: tuple
    images: tuple[np.ndarray, ...]
    grid: np.ndarray  # the labelled grid, HxWx3 uint8
    seed: int


@dataclass(frozen=True)
class LoraDeltaRequest:
    """What a LoRA changes in the loaded model: ‖ΔW‖/‖W‖ per layer, at weight 1."""

    lora: NetworkFile
    source: ModelSource = field(default_factory=ModelSource)
    options: PipelineOptions = field(default_factory=PipelineOptions)


@dataclass(frozen=True)
class LoraDeltaResult:
    name: str
    layers: tuple[str, ...]  # module names in the model's order ("unet.down_blocks.1…to_q")
    relative: np.ndarray  # ‖ΔW‖_F / ‖W‖_F per layer (float64)
    ranks: tuple[int, ...]


# The requests that run many generations (kept apart: this module's size), re-exported here.
from engine.stable_diffusion.multi_run_types import (  # noqa: E402, F401
    SdWalkFrame,
    SdWalkRequest,
    XyzGridRequest,
    XyzGridResult,
)

# Request type -> "module:function"; engine/jobs.py merges these (one line there).
JOB_HANDLERS: dict[type, str] = {
    LoadModelRequest: "engine.stable_diffusion.loading:load_model_job",
    CachedModelsRequest: "engine.stable_diffusion.loading:cached_models_job",
    GenerationRequest: "engine.stable_diffusion.generation:run_generation",
    TokensRequest: "engine.stable_diffusion.tokens:tokens_job",
    DecodeLatentsRequest: "engine.stable_diffusion.generation:decode_latents_job",
    VaeRoundTripRequest: "engine.stable_diffusion.generation:vae_round_trip_job",
    ComparisonGridRequest: "engine.stable_diffusion.comparison:comparison_grid_job",
    XyzGridRequest: "engine.stable_diffusion.xyz_job:xyz_grid_job",
    SdWalkRequest: "engine.stable_diffusion.walk:run_sd_walk",
    LoraDeltaRequest: "engine.stable_diffusion.lora_delta:lora_delta_job",
}
JOB_HANDLERS.update(preview_types.JOB_HANDLERS)
