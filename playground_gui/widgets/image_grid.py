"""A titled view of a batch of small grey images, shown as one pixel-sharp grid."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from engine.digits.outputs import grid
from playground_gui.widgets.frame_view import ReadoutLine
from playground_gui.widgets.images import qimage_from_array

# From this enlargement on, whole-pixel factors only (every source pixel the same size); below
# it a fractional factor, since rounding 2.9× down to 2× would waste a third of the space.
WHOLE_PIXEL_FROM = 3.0


def fitted_scale(image_size: tuple[int, int], area: tuple[int, int]) -> float:
    """How much to enlarge a (width, height) image to fill ``area`` (aspect kept)."""
    width, height = image_size
    scale = min(area[0] / max(1, width), area[1] / max(1, height))
    return float(math.floor(scale)) if scale >= WHOLE_PIXEL_FROM else max(scale, 0.0)


class GridCanvas(QWidget):
    """Paints one grey image as large as it fits, nearest neighbour, without asking the layout
    for space (so a new image never moves its neighbours)."""

    def __init__(self, minimum: int, tooltip: str = "", parent=None):
        super().__init__(parent)
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip(tooltip)
        self._image = None
        self._array: np.ndarray | None = None
        self.outline: tuple[int, int, int, int] | None = None  # x, y, w, h in image pixels

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def set_array(self, array: np.ndarray | None) -> None:
        self._array = None if array is None else np.ascontiguousarray(array, dtype=np.uint8)
        self._image = None if self._array is None else qimage_from_array(self._array)
        self.update()

    def image_rect(self) -> QRectF:
        """Where the image is painted: centred, scaled by ``fitted_scale``."""
        if self._image is None:
            return QRectF()
        width, height = self._image.width(), self._image.height()
        scale = fitted_scale((width, height), (self.width() - 4, self.height() - 4))
        return QRectF((self.width() - width * scale) / 2, (self.height() - height * scale) / 2,
                      width * scale, height * scale)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor("#282828"))
            if self._image is None:
                painter.setPen(QColor("#aaa"))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "—")
                return
            target = self.image_rect()
            painter.drawImage(target, self._image)  # no smoothing: pixels stay visible
            if self.outline is not None:
                scale = target.width() / self._image.width()
                x, y, w, h = self.outline
                painter.setPen(QPen(QColor("#ffb300"), max(2.0, scale / 2)))
                painter.drawRect(QRectF(target.left() + x * scale, target.top() + y * scale,
                                        w * scale, h * scale))
        finally:
            painter.end()


class ImageGridView(QWidget):
    """Title, a grid image scaled with nearest neighbour (pixels stay visible), a caption.

    ``size``: the nominal size of the image area; it never gets smaller than half of it."""

    def __init__(self, title: str, tooltip: str = "", size: int = 240, parent=None):
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title.setToolTip(tooltip)
        self.image = GridCanvas(size // 2, tooltip)
        self.caption = ReadoutLine(bold=False, centred=True)
        palette = self.caption.palette()
        palette.setColor(self.caption.foregroundRole(), QColor("#555"))
        self.caption.setPalette(palette)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.caption)
        self._array: np.ndarray | None = None
        self._tiles: tuple[int, int, int] | None = None  # count, tile height, tile width
        self.highlighted: int | None = None  # index of the batch image outlined, if any

    def set_images(self, images: np.ndarray | None, caption: str = "") -> None:
        """``images``: N×H×W uint8 (a batch) or H×W (one image)."""
        self.caption.setText(caption)
        if images is None:
            self._array = None
            self._tiles = None
        else:
            self._array = grid(images) if images.ndim == 3 else images
            self._tiles = images.shape if images.ndim == 3 else None
        self.image.set_array(self._array)
        self._update_outline()

    def image_scale(self) -> float:
        """How many screen pixels one image pixel takes now (0 with no image)."""
        rect = self.image.image_rect()
        return rect.width() / self._array.shape[1] if self._array is not None else 0.0

    def set_highlight(self, index: int | None) -> None:
        """Outline one image of the batch (e.g. the one Save uses); None removes the outline."""
        self.highlighted = index
        self._update_outline()

    def _update_outline(self) -> None:
        outline = None
        if self.highlighted is not None and self._tiles is not None \
                and 0 <= self.highlighted < self._tiles[0]:
            # The same tile geometry as engine.digits.outputs.grid (gap of 1 pixel).
            count, height, width = self._tiles
            columns = max(1, math.ceil(math.sqrt(count)))
            row, column = divmod(self.highlighted, columns)
            outline = (column * (width + 1), row * (height + 1), width, height)
        self.image.outline = outline
        self.image.update()
