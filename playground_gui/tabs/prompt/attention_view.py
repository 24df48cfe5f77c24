"""Where the words act: cross-attention maps per prompt token, and the self-attention probe.

Shows a finished run's ``GenerationResult.attention`` (engine/stable_diffusion/attention_maps.py)
over the image shown: the tokens picked in the token view (one in heat colours, several in
their own colours) at the step slider's step or averaged over all steps; a click on the image
shows where that position attends in self-attention, at the chosen level and step. Everything
is in memory (the engine kept it during the run), so a click answers at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.stable_diffusion.attention_maps import colours_over, heatmap_over
from playground_gui.widgets.images import pixmap_from_array

# Saturated colours for several tokens at once (the chips of selected tokens take them too).
TOKEN_COLOURS = ("#f97316", "#2563eb", "#16a34a", "#db2777", "#0891b2", "#a16207")
MEAN = "mean"
STEP = "step"

EXPLANATION = (
    "<b>Cross-attention</b> is how the words steer the picture: in every cross-attention layer "
    "each latent pixel spreads its attention over the 77 text positions (softmax of QKᵀ/√d). "
    "Click a token above to see its share at every pixel (averaged over heads, upsampled to "
    "the latent size, averaged over layers), at the step slider's step or over all steps; "
    "click more tokens to see them together in colours. Most of the mass goes to the start "
    "marker, so each map is scaled to its own maximum (the caption gives the true share). "
    "<b>Self-attention</b>: click a pixel of the image to see where that position looks "
    "(attn1) at the chosen level. Kept in memory for the recorded steps: self-attention of the "
    "levels up to 32×32 positions (a level of N positions is an N×N matrix; finer ones are not "
    "kept), so a click answers at once, with no re-run. With a real model the maps of nouns "
    "sit on their objects, and the coarse layout is settled in the first steps.")


class ClickableImage(QLabel):
    """An image scaled to fit; a left click emits where, as fractions (y, x) of the image."""

    clicked = Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pixmap = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(200, 260))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("QLabel { background: #20232a; color: #ccc; border-radius: 4px; }")
        self.setWordWrap(True)

    def set_array(self, image: np.ndarray | None, empty_text: str = "") -> None:
        self._pixmap = pixmap_from_array(image) if image is not None else None
        if self._pixmap is None:
            self.clear()
            self.setText(empty_text)
        self._rescale()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None:
            return
        small = self._pixmap.width() * 2 <= self.width()
        mode = (Qt.TransformationMode.FastTransformation if small
                else Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio, mode))

    def mousePressEvent(self, event) -> None:
        shown = self.pixmap()
        if self._pixmap is None or shown is None or shown.isNull():
            return
        left = (self.width() - shown.width()) / 2
        top = (self.height() - shown.height()) / 2
        x, y = event.position().x() - left, event.position().y() - top
        if 0 <= x < shown.width() and 0 <= y < shown.height():
            self.clicked.emit(y / shown.height(), x / shown.width())


def mark(image: np.ndarray, y: float, x: float) -> np.ndarray:
    """A white cross with a dark outline at (y, x) (fractions of the image)."""
    out = image.copy()
    h, w = out.shape[:2]
    row, column = min(h - 1, int(y * h)), min(w - 1, int(x * w))
    arm = max(2, min(h, w) // 24)
    for colour, width in (((0, 0, 0), 1), ((255, 255, 255), 0)):
        out[max(0, row - width):row + width + 1, max(0, column - arm):column + arm + 1] = colour
        out[max(0, row - arm):row + arm + 1, max(0, column - width):column + width + 1] = colour
    return out


class AttentionView(QWidget):
    selection_changed = Signal(object)  # {token index: colour}, for the token view's chips

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result = None
        self.image_index = 0
        self.position = 1  # the step slider's position (1-based row of the step recording)
        self.selected: list[int] = []
        self.probe_point: tuple[float, float] | None = None
        self.shown: np.ndarray | None = None  # what the canvas shows
        # (image index, slider position) → the VAE's decode of x̂₀ at that step, if at hand
        self.frame_for = lambda index, position: None
        self.under = "the final image"

        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        explanation.setStyleSheet("color: #444")
        self.record_check = QCheckBox("Record attention maps in each run")
        self.record_check.setChecked(True)
        self.record_check.setToolTip("Cross-attention per token (means over all steps; single "
                                     "steps within 256 MB) and the low-resolution self-attention")
        self.when_combo = QComboBox()
        self.when_combo.addItem("at the step slider's step", STEP)
        self.when_combo.addItem("mean over all steps", MEAN)
        self.level_combo = QComboBox()
        self.level_combo.setToolTip("Self-attention level (positions of the layer) for the probe")
        self.clear_button = QPushButton("Clear")
        # Two short rows: one wide row would widen the column at 1366 px.
        when = QHBoxLayout()
        when.addWidget(self.when_combo)
        when.addWidget(self.clear_button)
        when.addStretch(1)
        level = QHBoxLayout()
        level.addWidget(QLabel("Probe level"))
        level.addWidget(self.level_combo)
        level.addStretch(1)
        self.canvas = ClickableImage()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.record_check)
        layout.addLayout(when)
        layout.addLayout(level)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        layout.addWidget(explanation)

        self.when_combo.currentIndexChanged.connect(lambda _: self.refresh())
        self.level_combo.currentIndexChanged.connect(lambda _: self.refresh())
        self.clear_button.clicked.connect(self.clear_selection)
        self.canvas.clicked.connect(self.probe_at)
        self.refresh()

    @property
    def maps(self):
        return getattr(self.result, "attention", None)

    # -- what the tab tells it ---------------------------------------------------------------
    def set_result(self, result, position: int = 1) -> None:
        before = getattr(self.maps, "tokens", None)
        self.result = result
        self.position = position
        self.image_index = 0
        self.probe_point = None
        maps = self.maps
        if maps is None or maps.tokens != before:  # the same prompt keeps its picked words
            self.selected = []
        self.level_combo.blockSignals(True)
        self.level_combo.clear()
        for h, w in (maps.levels if maps is not None else ()):
            self.level_combo.addItem(f"{w}×{h}")
        self.level_combo.blockSignals(False)
        self.selection_changed.emit(self.colours())
        self.refresh()

    def set_step(self, position: int) -> None:
        self.position = position
        self.refresh()

    def set_image_index(self, index: int, position: int = 1) -> None:
        self.image_index = max(0, index)
        self.position = position
        self.refresh()

    def toggle_token(self, index: int, tokens: tuple[str, ...] | None = None) -> None:
        """Select or drop token ``index``; ``tokens`` (what the token view shows) must be the
        run's, else the prompt has changed since the run and the index means another word."""
        maps = self.maps
        if maps is None or index >= len(maps.tokens):
            self.refresh("Generate with “Record attention maps” ticked to see the tokens' maps."
                         if maps is None else "That token is past what the text encoder reads.")
            return
        run_tokens = getattr(self.result.tokens, "tokens", None)
        if tokens is not None and run_tokens is not None and tuple(tokens) != tuple(run_tokens):
            self.refresh("The prompt has changed since this run: generate again to see the "
                         "new tokens' maps.")
            return
        if index in self.selected:
            self.selected.remove(index)
        else:
            self.selected.append(index)
        self.probe_point = None
        self.selection_changed.emit(self.colours())
        self.refresh()

    def clear_selection(self) -> None:
        self.selected = []
        self.probe_point = None
        self.selection_changed.emit(self.colours())
        self.refresh()

    def probe_at(self, y: float, x: float) -> None:
        self.probe_point = (y, x)
        self.refresh()

    def colours(self) -> dict[int, str]:
        return {index: TOKEN_COLOURS[k % len(TOKEN_COLOURS)]
                for k, index in enumerate(self.selected)}

    # -- drawing -----------------------------------------------------------------------------
    def _row(self) -> tuple[int | None, int]:
        """(recorded attention row, model call) for the step slider's position."""
        step = self.result.step_number(self.position)
        return self.maps.row_for(step), step

    def refresh(self, message: str = "") -> None:
        maps, result = self.maps, self.result
        if result is None or not result.images or self.image_index >= len(result.images):
            self._show(None, message or "Attention maps appear here after a run.")
            return
        if maps is None:
            reason = next((w for w in result.warnings if w.startswith("No attention maps")),
                          "This run recorded no attention maps: tick “Record attention maps” "
                          "and generate again.")
            self._show(None, message or reason)
            return
        image, self.under = result.images[self.image_index], "the final image"
        if self.when_combo.currentData() == STEP:
            frame = self.frame_for(self.image_index, self.position)
            if frame is not None and frame.shape == image.shape:
                image, self.under = frame, "x̂₀ at this step (decoded)"
        if self.probe_point is not None:
            self._show_probe(image, message)
        elif self.selected:
            self._show_tokens(image, message)
        else:
            self._show(image, message or "Click a token above to see its map; click the image "
                       "for the self-attention probe.")

    def _show(self, image, text: str) -> None:
        self.shown = image
        self.canvas.set_array(image, text if image is None else "")
        self.caption.setText(text if image is not None else "")

    def _show_tokens(self, image, message: str) -> None:
        maps = self.maps
        if self.when_combo.currentData() == MEAN:
            values, when = maps.token_maps(self.image_index), "mean over all steps"
        else:
            row, step = self._row()
            values = maps.token_maps(self.image_index, row) if row is not None else None
            when = f"step {maps.steps[row]}" if row is not None else ""
            if row is not None and maps.steps[row] != step:
                when += f" (the last recorded at or before step {step})"
        if values is None:
            self._show(image, message or "No single-step maps for this image (the memory "
                       "budget): choose “mean over all steps”.")
            return
        chosen = [values[i] for i in self.selected]
        if len(chosen) == 1:
            picture = heatmap_over(image, chosen[0])
            colours = "heat colours, scaled to its largest share"
        else:
            picture = colours_over(image, chosen, [_rgb(c) for c in self.colours().values()])
            colours = "each in its chip's colour, scaled to its own largest share"
        words = ", ".join(f"“{maps.tokens[i]}” (up to {100 * float(values[i].max()):.1f} %)"
                          for i in self.selected)
        self._show(picture, message or f"{words} · {when} · share of the attention at each "
                   f"pixel, {colours}; mean of {maps.cross_layers} cross-attention layers and "
                   f"all heads, over {self.under}")

    def _show_probe(self, image, message: str) -> None:
        maps = self.maps
        level = self.level_combo.currentIndex()
        row, step = self._row()
        if level < 0 or row is None:
            self._show(image, message or "No self-attention was kept for this run (no level "
                       "of at most 32×32 positions, or no recorded step).")
            return
        y, x = self.probe_point
        values = maps.probe(self.image_index, level, row, y, x)
        if values is None:
            self._show(image, message or "No self-attention kept for this image (the memory "
                       "budget).")
            return
        h, w = maps.levels[level]
        picture = mark(heatmap_over(image, values), y, x)
        self._show(picture, message or f"Self-attention at the {w}×{h} level, step "
                   f"{maps.steps[row]}: where the marked position attends (heat colours, "
                   f"brightest = {100 * float(values.max()):.1f} % of its attention); mean of "
                   f"that level's layers and all heads, over {self.under}. Click a token to go "
                   "back to the words.")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
