"""Grey digit images → grids and PNG files (with a "parameters" text chunk). Torch-free."""

from __future__ import annotations

import math

import numpy as np


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


def parameters_text(parameters: dict) -> str:
    """Plain "key: value, …" text (a shared A1111-style writer can replace this later)."""
    return ", ".join(f"{key}: {value}" for key, value in parameters.items())


def save_png(path, image: np.ndarray, parameters: dict, scale: int = 1) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    picture = Image.fromarray(np.asarray(image, dtype=np.uint8))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale),
                                 Image.Resampling.NEAREST)
    info = PngInfo()
    info.add_text("parameters", parameters_text(parameters))
    picture.save(path, pnginfo=info)
