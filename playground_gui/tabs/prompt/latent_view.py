"""The latent channels of one step, side by side (mid-grey = 0), plus the cheap RGB sketch."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from engine.stable_diffusion.previews import channel_images, latents_to_rgb
from playground_gui.widgets.images import pixmap_from_array

CELL = 96


class PromptLatentView(QWidget):
    def __init__(self, cell: int = CELL, parent=None):
        super().__init__(parent)
        self.cell = cell
        self.latents: np.ndarray | None = None
        self.family = None  # the model family whose latent→RGB map sketches the latents
        self.grid = QGridLayout(self)
        self.title = QLabel("The latents of the current step appear here during and after a run.")
        self.title.setWordWrap(True)
        self.grid.addWidget(self.title, 0, 0, 1, 5)
        self.cells: list[QLabel] = []
        self.captions: list[QLabel] = []
        for column in range(5):
            label = QLabel()
            label.setFixedSize(cell, cell)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("background: #20232a")
            caption = QLabel()
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            # As wide as its cell whatever it says: a caption must not widen the column.
            caption.setFixedWidth(cell)
            caption.setWordWrap(True)
            self.grid.addWidget(label, 1, column)
            self.grid.addWidget(caption, 2, column)
            self.cells.append(label)
            self.captions.append(caption)
        self.grid.setRowStretch(3, 1)
        self.grid.setColumnStretch(5, 1)

    def set_latents(self, latents: np.ndarray, title: str) -> None:
        self.latents = np.asarray(latents, dtype=np.float32)
        channels = channel_images(self.latents)[:4]
        self.title.setText(f"{title} — {self.latents.shape[0]} channels of "
                           f"{self.latents.shape[2]}×{self.latents.shape[1]} (grey = 0, "
                           "each channel scaled to its own largest |value|)")
        images = channels + [latents_to_rgb(self.latents, self.family)]
        names = [f"channel {k}" for k in range(len(channels))] + ["linear RGB sketch"]
        for index, (cell, caption) in enumerate(zip(self.cells, self.captions, strict=True)):
            if index >= len(images):
                cell.clear()
                caption.clear()
                continue
            pixmap = pixmap_from_array(images[index]).scaled(
                self.cell, self.cell, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
            cell.setPixmap(pixmap)
            if index < len(channels):
                values = self.latents[index]
                caption.setText(f"{names[index]}\n{values.min():+.2f} … {values.max():+.2f}")
            else:
                caption.setText(names[index])
