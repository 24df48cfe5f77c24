"""The frames of a latent walk: the current frame large, all frames as a strip, a frame slider,
and export as a strip PNG or a GIF (shared by the digits walk and the Stable Diffusion walk)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserFacingError
from engine.images import frames_file_bytes
from engine.png.saving import SaveError, write_bytes_as
from playground_gui.widgets.frame_view import ReadoutLine
from playground_gui.widgets.image_grid import GridCanvas

STRIP_GAP = 2


def strip_of(frames: list[np.ndarray | None], gap: int = STRIP_GAP) -> np.ndarray | None:
    """The frames done so far side by side (a frame not done yet is a dark cell)."""
    done = [frame for frame in frames if frame is not None]
    if not done:
        return None
    height, width = done[0].shape[:2]
    colour = done[0].shape[2:]  # () grey or (3,) RGB
    out = np.full((height, len(frames) * (width + gap) - gap, *colour), 90, np.uint8)
    for index, frame in enumerate(frames):
        left = index * (width + gap)
        if frame is None:
            out[:, left:left + width] = 40
        else:
            out[:, left:left + width] = frame
    return out


class WalkFramesView(QWidget):
    """Frame slider, the frame, the strip and the export buttons. ``export_scale``: nearest-
    neighbour enlargement for export (the digits' 16×16 frames are saved 4× larger)."""

    def __init__(self, export_scale: int = 1, parent=None):
        super().__init__(parent)
        self.export_scale = export_scale
        self.frames: list[np.ndarray | None] = []
        self.captions: list[str] = []
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Scrub through the walk's frames")
        self.slider.valueChanged.connect(self.show_frame)
        self.frame_label = ReadoutLine("no walk yet", bold=False)
        self.frame_label.setMinimumWidth(self.frame_label.text_width("frame 1000/1000 · 0.999"))
        self.canvas = GridCanvas(160, "The frame the slider shows")
        self.strip = GridCanvas(48, "Every frame, first to last")
        self.strip.setMaximumHeight(120)
        self.strip_button = QPushButton("Save strip PNG…")
        self.strip_button.setToolTip("All frames side by side in one PNG")
        self.gif_button = QPushButton("Save GIF…")
        self.gif_button.setToolTip("The frames as a looping animation")
        self.strip_button.clicked.connect(lambda: self._ask_and_export("png"))
        self.gif_button.clicked.connect(lambda: self._ask_and_export("gif"))
        self.export_status = QLabel()
        self.export_status.setWordWrap(True)

        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("Frame"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.frame_label)
        buttons = self.button_row = QHBoxLayout()  # others may add their own buttons
        buttons.addWidget(self.strip_button)
        buttons.addWidget(self.gif_button)
        buttons.addWidget(self.export_status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(slider_row)
        layout.addWidget(self.canvas, 3)
        layout.addWidget(self.strip, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def start(self, total: int) -> None:
        """A new walk of ``total`` frames: every cell empty until its frame arrives."""
        self.frames, self.captions = [None] * total, [""] * total
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(0, total - 1))
            self.slider.setValue(0)
        self.canvas.set_array(None)
        self.strip.set_array(None)
        self.frame_label.setText(f"0 of {total} frames")
        self.export_status.clear()
        self._update_buttons()

    def add_frame(self, index: int, image: np.ndarray, caption: str) -> None:
        """A finished frame; the slider follows the newest."""
        if not 0 <= index < len(self.frames):
            return
        self.frames[index], self.captions[index] = image, caption
        self.strip.set_array(strip_of(self.frames))
        self.slider.setValue(index)
        self.show_frame(index)
        self._update_buttons()

    def done_frames(self) -> list[np.ndarray]:
        return [frame for frame in self.frames if frame is not None]

    def show_frame(self, index: int) -> None:
        if not 0 <= index < len(self.frames) or self.frames[index] is None:
            return
        self.canvas.set_array(self.frames[index])
        height, width = self.frames[index].shape[:2]
        self.strip.outline = (index * (width + STRIP_GAP), 0, width, height)  # where it is
        self.strip.update()
        self.frame_label.setText(f"frame {index + 1}/{len(self.frames)} · {self.captions[index]}")

    def _update_buttons(self) -> None:
        ready = len(self.done_frames()) >= 2
        self.strip_button.setEnabled(ready)
        self.gif_button.setEnabled(ready)

    # -- export ----------------------------------------------------------------------------
    def _ask_and_export(self, suffix: str) -> None:
        kind = "PNG strip (*.png)" if suffix == "png" else "GIF animation (*.gif)"
        path, _ = QFileDialog.getSaveFileName(self, "Export the walk", f"walk.{suffix}", kind)
        if path:
            self.export(path if path.lower().endswith(f".{suffix}") else f"{path}.{suffix}")

    def export(self, path: str) -> bool:
        """Write the frames done to ``path`` (.png strip or .gif); says what happened."""
        frames = self.done_frames()
        if self.export_scale > 1:
            scale = self.export_scale
            frames = [np.repeat(np.repeat(f, scale, axis=0), scale, axis=1) for f in frames]
        try:
            data = frames_file_bytes(frames, path.rsplit(".", 1)[-1])
            write_bytes_as(path, data, overwrite=True)  # the file dialog asked already
        except (UserFacingError, SaveError) as exc:
            self.export_status.setText(str(exc))
            self.export_status.setStyleSheet("color: #b00020")
            return False
        self.export_status.setText(f"Saved {len(frames)} frames to {path}")
        self.export_status.setStyleSheet("color: #555")
        return True
