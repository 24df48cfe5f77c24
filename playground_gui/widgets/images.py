"""numpy ↔ Qt image conversion, in one place."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def qimage_from_array(array: np.ndarray) -> QImage:
    """HxW (grey) or HxWx3 / HxWx4 uint8 → QImage that owns its pixels."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    height, width = array.shape[:2]
    if array.ndim == 2:
        image = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_Grayscale8)
    elif array.shape[2] == 3:
        image = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_RGB888)
    elif array.shape[2] == 4:
        image = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_RGBA8888)
    else:
        raise ValueError(f"cannot show an image of shape {array.shape}")
    return image.copy()  # detach from the numpy buffer, which may be freed


def pixmap_from_array(array: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(qimage_from_array(array))
