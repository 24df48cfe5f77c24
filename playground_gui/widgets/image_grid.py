"""A titled view of a batch of small grey images, shown as one pixel-sharp grid."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from engine.digits.outputs import grid
from playground_gui.widgets.images import pixmap_from_array


class ImageGridView(QWidget):
    """Title, a grid image scaled with nearest neighbour (pixels stay visible), a caption."""

    def __init__(self, title: str, tooltip: str = "", size: int = 240, parent=None):
        super().__init__(parent)
        self.size = size
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title.setToolTip(tooltip)
        self.image = QLabel("—")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(size // 2, size // 2)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image.setStyleSheet("background: #282828; color: #aaa")
        self.image.setToolTip(tooltip)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.caption.setStyleSheet("color: #555")
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
            self.image.clear()
            self.image.setText("—")
            return
        array = grid(images) if images.ndim == 3 else images
        self._tiles = images.shape if images.ndim == 3 else None
        self._array = array
        self._render()

    def _render(self) -> None:
        if self._array is None:
            return
        side = max(16, min(self.image.width(), self.image.height()) - 4)
        height, width = self._array.shape
        factor = max(1, side // max(height, width))
        pixmap = pixmap_from_array(self._array).scaled(
            width * factor, height * factor, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation)
        if self.highlighted is not None and self._tiles is not None \
                and 0 <= self.highlighted < self._tiles[0]:
            self._outline(pixmap, factor)
        self.image.setPixmap(pixmap)

    def set_highlight(self, index: int | None) -> None:
        """Outline one image of the batch (e.g. the one Save uses); None removes the outline."""
        self.highlighted = index
        self._render()

    def _outline(self, pixmap, factor: int) -> None:
        # The same tile geometry as engine.sample_images.grid (gap of 1 pixel).
        count, height, width = self._tiles
        columns = max(1, math.ceil(math.sqrt(count)))
        row, column = divmod(self.highlighted, columns)
        painter = QPainter(pixmap)
        painter.setPen(QPen(QColor("#ffb300"), max(2, factor // 2)))
        painter.drawRect(column * (width + 1) * factor, row * (height + 1) * factor,
                         width * factor - 1, height * factor - 1)
        painter.end()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._render()
