"""SDXL's own options: micro-conditioning and the refiner (torch-free: the GUI builds these).

SDXL was trained with the size of each source image and the crop taken from it as extra inputs
(Podell et al. 2023, §2.2, "micro-conditioning"): the UNet gets (original height, original
width, crop top, crop left, target height, target width) beside the text. At sampling time they
are knobs: a small ``original_size`` asks for what upscaled small images looked like (soft,
blurry), a crop offset for what a cut-out looked like (subjects cut off at the top/left edge).
The defaults (original = target = the output size, crop 0,0) ask for a sharp, centred image.

The refiner (engine/stable_diffusion/refiner.py) is a second SDXL model trained on the last,
low-noise part of the schedule: the base runs the first ``refiner_switch`` of the steps
(``denoising_end``), the refiner the rest (``denoising_start``) on the base's latents.

Sizes here are (width, height) and crops (x, y), as users say them; diffusers wants
(height, width) and (top, left): engine/stable_diffusion/sdxl.py converts.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

MAX_CONDITIONING_SIZE = 8192  # px; SDXL's training images were at most a few thousand px
DEFAULT_REFINER_SWITCH = 0.8  # the SDXL 1.0 report's 80 % / 20 % split (also A1111's default)
SDXL_FAMILY = "SDXL"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _pair(value, low: int) -> bool:
    return (isinstance(value, tuple) and len(value) == 2
            and all(_is_int(v) and low <= v <= MAX_CONDITIONING_SIZE for v in value))


@dataclass(frozen=True)
class SdxlOptions:
    """SDXL micro-conditioning and refiner of one run; ``GenerationRequest.sdxl`` (None: none).

    ``original_size``/``target_size``: (width, height) px, None = the output size.
    ``crop_top_left``: (x, y) px. ``negative_original_size``: the size the unconditional
    (negative) branch is told of, e.g. 512×512, so guidance pushes away from the look of small
    upscaled images (the negative branch then gets the target size and crop 0,0).
    ``refiner``: a diffusers folder or hub id of an SDXL refiner (or any SDXL model) that runs
    the steps after ``refiner_switch`` (the fraction of the steps the base model runs).
    """

    original_size: tuple[int, int] | None = None
    target_size: tuple[int, int] | None = None
    crop_top_left: tuple[int, int] = (0, 0)
    negative_original_size: tuple[int, int] | None = None
    refiner: str | None = None
    refiner_switch: float = DEFAULT_REFINER_SWITCH

    def __post_init__(self) -> None:
        problems = options_problems(self)
        if problems:
            text = "; ".join(problems)
            raise ValueError(text[0].upper() + text[1:] + ".")

    @property
    def conditioned(self) -> bool:
        """Whether any micro-conditioning differs from SDXL's defaults."""
        return (self.original_size is not None or self.target_size is not None
                or tuple(self.crop_top_left) != (0, 0) or self.negative_original_size is not None)

    @property
    def refined(self) -> bool:
        return bool(self.refiner)

    @property
    def active(self) -> bool:
        return self.conditioned or self.refined

    def parameters(self) -> dict:
        """What a run records (GenerationResult.parameters): only what is set."""
        data: dict = {}
        for name in ("original_size", "target_size", "negative_original_size"):
            if getattr(self, name) is not None:
                data[f"sdxl_{name}"] = list(getattr(self, name))
        if tuple(self.crop_top_left) != (0, 0):
            data["sdxl_crop_top_left"] = list(self.crop_top_left)
        if self.refined:
            data["refiner"] = self.refiner
            data["refiner_switch"] = self.refiner_switch
        return data


def options_problems(options: SdxlOptions) -> list[str]:
    problems = []
    for name, low in (("original_size", 8), ("target_size", 8), ("negative_original_size", 8),
                      ("crop_top_left", 0)):
        value = getattr(options, name)
        if value is None and name != "crop_top_left":
            continue
        if not _pair(value, low):
            what = name.replace("_", " ")
            problems.append(f"the SDXL {what} must be two whole numbers from {low} to "
                            f"{MAX_CONDITIONING_SIZE} px")
    refiner = options.refiner
    if refiner is not None and (not isinstance(refiner, str) or not refiner.strip()):
        problems.append("the refiner must be a diffusers folder or hub id (or none)")
    switch = options.refiner_switch
    if not isinstance(switch, numbers.Real) or isinstance(switch, bool) \
            or not math.isfinite(switch) or not 0.0 < switch < 1.0:
        problems.append("the refiner switch must be a fraction of the steps between 0 and 1 "
                        "(0.8: the base runs 80 %, the refiner the last 20 %)")
    return problems


def request_problems(request) -> list[str]:
    """What a GenerationRequest's ``sdxl`` cannot do with its other fields (checked when the
    run starts, as sentences' phrases)."""
    sdxl = request.sdxl
    if sdxl is None or not sdxl.refined:
        return []
    problems = []
    if request.mode != "txt2img":
        problems.append("the refiner works with text → image only here (for image → image, run "
                        "the refiner as the model with a low strength)")
    if request.hires_enabled:
        problems.append("the refiner and the hires fix do not combine (both take over the end "
                        "of the run): turn one off")
    return problems


@dataclass(frozen=True)
class RefinerRecord:
    """Where the refiner took over in a run (``GenerationResult.refiner``): the step slider shows
    one run of ``base_model_calls + model_calls`` steps, the refiner's from ``switch_step``."""

    name: str  # the refiner's folder name or hub id's last part
    switch: float  # the fraction asked for
    base_model_calls: int  # model calls of the base per image
    model_calls: int  # the refiner's
    shared: tuple[str, ...] = ()  # components the refiner shares with the base ("vae", …)

    @property
    def switch_step(self) -> int:
        """The 1-based step (model call) the refiner made first."""
        return self.base_model_calls + 1


# -- the A1111 text ------------------------------------------------------------------------------
A1111_KEYS = {"original_size": "SDXL original size", "target_size": "SDXL target size",
              "crop_top_left": "SDXL crop top-left",
              "negative_original_size": "SDXL negative original size"}


def refiner_name(location: str) -> str:
    """A folder's own name, or a hub id's last part (what the A1111 text shows)."""
    return str(location).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]


def sdxl_texts(parameters: dict) -> dict[str, str]:
    """``SDXL original size: 512x512``, … and A1111's ``Refiner: name``, ``Refiner switch at:
    0.8``, for what a run's parameters set."""
    texts = {}
    for name, key in A1111_KEYS.items():
        value = parameters.get(f"sdxl_{name}")
        if isinstance(value, (list, tuple)) and len(value) == 2:
            texts[key] = f"{value[0]}x{value[1]}"
    if parameters.get("refiner"):
        texts["Refiner"] = refiner_name(parameters["refiner"])
        texts["Refiner switch at"] = f"{parameters.get('refiner_switch', DEFAULT_REFINER_SWITCH):g}"
    return texts


def sdxl_from_texts(extra: dict) -> tuple[dict, list[str]]:
    """The micro-conditioning of an A1111 text's pairs (``SdxlOptions`` keyword arguments) and
    notes: a refiner named there is a name, not a folder, so it is left to the user."""
    values: dict = {}
    notes = []
    for name, key in A1111_KEYS.items():
        text = str(extra.get(key, ""))
        parts = text.lower().split("x")
        if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
            values[name] = (int(parts[0]), int(parts[1]))
    if extra.get("Refiner"):
        notes.append(f"choose the refiner yourself (the text names “{extra['Refiner']}”, switch "
                     f"at {extra.get('Refiner switch at', '?')})")
    return values, notes
