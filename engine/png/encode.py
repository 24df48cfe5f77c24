"""Encoding an image and its parameters as a PNG file in memory (Pillow).

Two text chunks per image: ``parameters`` (the A1111 text, ``engine.png.a1111``) and, when a
``kind`` is given, ``diffusion-playground`` (our JSON record, ``engine.png.record``).
"""

from __future__ import annotations

import io
import json
from typing import Any

from engine.png.a1111 import PARAMETERS_KEY, GenerationParameters, format_parameters
from engine.png.record import RECORD_KEY, make_record


def png_info(parameters: GenerationParameters, kind: str | None = None, request: Any = None):
    """Pillow ``PngInfo`` with both chunks (the record only when ``kind`` is given)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    # add_text writes tEXt when the text is Latin-1 and iTXt (UTF-8) otherwise, as A1111 does.
    info.add_text(PARAMETERS_KEY, format_parameters(parameters))
    if kind is not None:
        record = json.dumps(make_record(kind, request, parameters), ensure_ascii=False,
                            separators=(",", ":"))
        info.add_itxt(RECORD_KEY, record, zip=True)
    return info


def as_pil_image(image):
    """PIL image from a PIL image or a numpy array: uint8 (or bool), or float in [0, 1];
    H×W grey, H×W×1, H×W×3 RGB or H×W×4 RGBA."""
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or array.size == 0:
        raise ValueError(f"cannot save an image of shape {array.shape}; expected H×W, H×W×3 or H×W×4")
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"cannot save pixels of type {array.dtype}; use uint8 or float in [0, 1]")
        array = np.round(np.clip(np.nan_to_num(array), 0.0, 1.0) * 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(array))


def encode_png(image, parameters: GenerationParameters, kind: str | None = None,
               request: Any = None) -> bytes:
    """The complete PNG file, in memory (saving then only writes bytes)."""
    buffer = io.BytesIO()
    as_pil_image(image).save(buffer, format="PNG", pnginfo=png_info(parameters, kind, request),
                             compress_level=6)
    return buffer.getvalue()

