"""An image that fills its space keeping its aspect ratio, with a caption and an empty state."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from playground_gui.widgets.images import pixmap_from_array


class PromptImageView(QWidget):
    def __init__(self, empty_text: str = "", parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self._pixmap = None
        self.canvas = QLabel(empty_text)
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas.setMinimumSize(QSize(160, 160))
        # Ignored: the scaled pixmap must follow the space, never push the layout (feedback growth).
        self.canvas.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.canvas.setStyleSheet("QLabel { background: #20232a; color: #ccc; border-radius: 4px; }")
        self.canvas.setWordWrap(True)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Room for three lines, whatever the caption says: a longer caption must neither widen
        # the column nor shrink the image (the layout stays put between runs).
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.caption.setFixedHeight(3 * self.caption.fontMetrics().lineSpacing() + 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        self._empty_text = empty_text

    def set_image(self, image: np.ndarray | None, caption: str = "") -> None:
        self.image = image
        self._pixmap = pixmap_from_array(image) if image is not None else None
        self.caption.setText(caption)
        self._rescale()

    def clear(self) -> None:
        self.set_image(None)
        self.canvas.setText(self._empty_text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None:
            self.canvas.clear()
            self.canvas.setText(self._empty_text)
            return
        size = self.canvas.size()
        # Small images (latent-size previews) are enlarged blockily: each latent pixel stays visible.
        small = self._pixmap.width() * 2 <= size.width() and self._pixmap.height() * 2 <= size.height()
        mode = (Qt.TransformationMode.FastTransformation if small and self._pixmap.width() <= 128
                else Qt.TransformationMode.SmoothTransformation)
        self.canvas.setPixmap(self._pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, mode))
