"""The hires fix's request checks and its record on the step slider (torch-free; hires.py
runs it). Kept apart from types.py, which uses these."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

HIRES_UPSCALERS = ("latent", "lanczos")
MAX_HIRES_SCALE = 4.0
HIRES_FIELDS = ("hires_scale", "hires_strength", "hires_steps", "hires_upscaler")


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """``scale`` × (width, height), each rounded to a multiple of 8."""
    return tuple(max(8, int(round(side * scale / 8)) * 8) for side in (width, height))


def hires_problems(r, min_strength: float, max_steps: int, max_size: int) -> list[str]:
    """What is wrong with a GenerationRequest's hires-fix fields (hires.py), as phrases."""
    if not _is_number(r.hires_scale) or not math.isfinite(r.hires_scale) \
            or not 1.0 <= r.hires_scale <= MAX_HIRES_SCALE:
        return [f"the hires scale must be a number from 1 (off) to {MAX_HIRES_SCALE:g}"]
    problems = []
    if not _is_number(r.hires_strength) or not min_strength <= r.hires_strength <= 1.0:
        problems.append(f"the hires denoising strength must be from {min_strength} to 1")
    if not _is_int(r.hires_steps) or not 0 <= r.hires_steps <= max_steps:
        problems.append(f"hires steps must be a whole number from 0 (= steps) to {max_steps}")
    if r.hires_upscaler not in HIRES_UPSCALERS:
        problems.append(f"unknown hires upscaler {r.hires_upscaler!r} (choose "
                        f"{', '.join(HIRES_UPSCALERS)})")
    model = r.hires_upscaler_model
    if model is not None and (not isinstance(model, str) or not model.strip()):
        problems.append("the hires upscaler model must be a folder or hub id (or none)")
    if r.hires_enabled:
        if r.mode != "txt2img":
            problems.append("the hires fix works on text-to-image only (for a larger "
                            "img2img result, raise the width and height)")
        width, height = r.hires_output_size
        if max(width, height) > max_size:
            problems.append(f"the hires fix would make {width}×{height} px; each side may be at "
                            f"most {max_size} px (a smaller scale or base size)")
    return problems


@dataclass(frozen=True)
class HiresRecord:
    """The hires fix's second pass on the step slider: its recorded steps, as a second segment
    after the first pass's (its latents are larger, so they cannot share one array)."""

    width: int
    height: int
    upscaler: str
    base_model_calls: int  # the first pass's model calls: the second pass's steps follow them
    model_calls: int
    timesteps: tuple[float, ...] = ()
    recorded_steps: tuple[int, ...] = ()  # 1-based, within the second pass
    step_latents: tuple[np.ndarray, ...] = ()  # per batch: (steps, batch_size, 4, H/8, W/8)
    step_predictions: tuple[np.ndarray, ...] = ()


# Our upscaler names ↔ AUTOMATIC1111's ("Hires upscaler: Latent (bicubic)" in its parameters).
A1111_UPSCALERS = {"latent": "Latent (bicubic)", "lanczos": "Lanczos"}


def upscaler_model_name(location: str) -> str:
    """A folder's own name, or a hub id's last part (what the A1111 text shows)."""
    return str(location).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]


def hires_texts(parameters: dict) -> dict[str, str]:
    """The ``Hires …`` pairs of the A1111 text (its denoising strength is written apart)."""
    if not parameters.get("hires_scale"):
        return {}
    texts = {"Hires upscale": f"{parameters['hires_scale']:g}"}
    if parameters.get("hires_steps"):
        texts["Hires steps"] = str(parameters["hires_steps"])
    texts["Hires upscaler"] = A1111_UPSCALERS.get(parameters.get("hires_upscaler"), "Latent")
    if parameters.get("hires_upscaler_model"):  # A1111 names its upscaler models by file name
        texts["Hires upscaler"] = upscaler_model_name(parameters["hires_upscaler_model"])
    return texts


def hires_fields(extra: dict, denoising_strength) -> tuple[dict, list[str]]:
    """The request's hires fields from an A1111 text's pairs (off when it has none), and notes
    on what has no equivalent here."""
    off = {"hires_scale": 1.0, "hires_strength": 0.7, "hires_steps": 0, "hires_upscaler": "latent"}
    try:
        scale = float(extra.get("Hires upscale", ""))
    except ValueError:
        return off, []
    values = {**off, "hires_scale": scale,
              "hires_strength": denoising_strength if _is_number(denoising_strength) else 0.7}
    try:
        values["hires_steps"] = int(extra.get("Hires steps", 0))
    except ValueError:
        pass
    upscaler = str(extra.get("Hires upscaler", "Latent"))
    notes = []
    if upscaler.lower().startswith("latent"):
        values["hires_upscaler"] = "latent"
    elif upscaler.lower() == "lanczos":
        values["hires_upscaler"] = "lanczos"
    else:
        notes.append(f"no hires upscaler here matches “{upscaler}”: Lanczos instead")
        values["hires_upscaler"] = "lanczos"
    return values, notes
