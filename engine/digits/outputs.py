"""Grey digit images → grids and PNG files that carry their parameters the shared way
(engine/png/: AUTOMATIC1111-style ``parameters`` text + our JSON request). Torch-free."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine.digits.types import DEFAULT_MODEL, label_text
from engine.png.a1111 import GenerationParameters
from engine.png.record import KIND_DIGITS, to_jsonable

EMBEDDED_MODEL_NAME = "digits (embedded)"


def grid(images: np.ndarray, columns: int | None = None, gap: int = 1, fill: int = 40) -> np.ndarray:
    """N×H×W uint8 → one image with the N tiles in rows (about square), ``gap`` pixels apart."""
    images = np.asarray(images)
    count, height, width = images.shape[:3]
    columns = columns or max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / columns))
    out = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), fill, np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        out[top:top + height, left:left + width] = image
    return out


def upscale(image: np.ndarray, scale: int = 1) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor (the pixels stay crisp)."""
    image = np.asarray(image, dtype=np.uint8)
    if scale <= 1:
        return image
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def request_record(request) -> dict:
    """The ReverseRequest as plain JSON data for the PNG record (``initial_noise``, an array
    that only DDIM inversion sets, is left out: a restored run draws its noise from the seed)."""
    data = to_jsonable(request)
    data.pop("initial_noise", None)
    return data


def digits_parameters(request, width: int, height: int, batch_index: int | None = None,
                      more: dict[str, str] | None = None) -> GenerationParameters:
    """A1111-style parameters of a digits sample (or grid) of ``width``×``height`` pixels;
    ``more``: further ``Key: value`` pairs at the end (e.g. a walk's ``Walk frame``)."""
    extra = {}
    variation_seed = getattr(request, "variation_seed", None)
    if variation_seed is not None and request.variation_strength > 0:  # as A1111 writes them
        extra["Variation seed"] = str(variation_seed)
        extra["Variation seed strength"] = f"{request.variation_strength:g}"
    if request.sampler == "ddim":
        extra["Eta"] = f"{request.eta:g}"
    if getattr(request, "guidance_cutoff", 1.0) < 1.0:  # same keys as Stable Diffusion's
        extra["CFG cut-off"] = f"{request.guidance_cutoff:g}"
    if getattr(request, "guidance_rescale", 0.0) > 0.0:
        extra["CFG rescale"] = f"{request.guidance_rescale:g}"
    extra["Batch size"] = str(request.batch_size)
    if batch_index is not None:
        extra["Batch index"] = str(batch_index)
    extra.update(more or {})
    model = EMBEDDED_MODEL_NAME if request.model_dir in (None, DEFAULT_MODEL) else request.model_dir
    return GenerationParameters(
        prompt=label_text(request.label), steps=request.steps, sampler=request.sampler,
        cfg_scale=float(request.guidance), seed=request.seed, width=width, height=height,
        model=model, extra=extra)


def sample_items(request, images: np.ndarray, scale: int = 1) -> list[tuple]:
    """(image, GenerationParameters, request record) per sample of a batch, ready for
    ``engine.png.saving.save_image`` / the GUI's save bar (kind ``KIND_DIGITS``)."""
    record = request_record(request)
    items = []
    for index, image in enumerate(np.asarray(images)):
        picture = upscale(image, scale)
        height, width = picture.shape[:2]
        items.append((picture, digits_parameters(request, width, height, index), record))
    return items


def save_digits_png(path: str | Path, image: np.ndarray, request, *, scale: int = 1,
                    batch_index: int | None = None, overwrite: bool = False,
                    more: dict[str, str] | None = None) -> Path:
    """Write one digits image (a sample or a grid) with its parameters to an exact path;
    an existing file is an error (``SaveError``) unless ``overwrite``."""
    from engine.png.saving import save_image_as

    picture = upscale(image, scale)
    height, width = picture.shape[:2]
    parameters = digits_parameters(request, width, height, batch_index, more)
    return save_image_as(path, picture, parameters, request_record(request), kind=KIND_DIGITS,
                         overwrite=overwrite)
