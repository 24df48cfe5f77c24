"""numpy ↔ Qt image conversion, in one place.

One meaning for every array shape: HxW or HxWx1 uint8 is grey (Grayscale8), HxWx3 is RGB
(RGB888) and HxWx4 is RGBA bytes (RGBA8888), the layout numpy images from Pillow have. The one
other 4-channel layout, Qt's native-endian 0xFFRRGGBB words (``RGB32``: the forward renderer's
buffer, which Qt paints without converting), is asked for explicitly with ``four_channel=RGB32``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap

RGBA8888 = "rgba8888"  # HxWx4 bytes R, G, B, A
RGB32 = "rgb32"  # HxWx4 native-endian 0xFFRRGGBB words (B, G, R, 255 on little-endian machines)

_FOUR_CHANNEL_FORMATS = {RGBA8888: QImage.Format.Format_RGBA8888, RGB32: QImage.Format.Format_RGB32}


def image_format(array: np.ndarray, four_channel: str = RGBA8888) -> QImage.Format:
    """The QImage format of a uint8 array of this shape (see the module docstring)."""
    channels = 1 if array.ndim == 2 else array.shape[2] if array.ndim == 3 else 0
    if channels == 1:
        return QImage.Format.Format_Grayscale8
    if channels == 3:
        return QImage.Format.Format_RGB888
    if channels == 4:
        return _FOUR_CHANNEL_FORMATS[four_channel]
    raise ValueError(f"cannot show an image of shape {array.shape}")


def wrap_array(array: np.ndarray, four_channel: str = RGBA8888) -> QImage:
    """A QImage over ``array``'s memory, no copy (the caller keeps ``array`` alive)."""
    if not array.flags.c_contiguous or array.dtype != np.uint8:
        raise ValueError("wrap_array needs a C-contiguous uint8 array")
    height, width = array.shape[:2]
    return QImage(array.data, width, height, array.strides[0], image_format(array, four_channel))


def qimage_from_array(array: np.ndarray, four_channel: str = RGBA8888) -> QImage:
    """A QImage that owns a copy of the pixels of a uint8 array."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return wrap_array(array, four_channel).copy()  # detach from the numpy buffer


def pixmap_from_array(array: np.ndarray, four_channel: str = RGBA8888) -> QPixmap:
    return QPixmap.fromImage(qimage_from_array(array, four_channel))
