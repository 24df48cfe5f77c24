"""The U-Net view of the Reverse process page (widgets only): the digits U-Net as a diagram
built from the model's real blocks, and the feature maps of the block clicked.

``UNetDiagram`` lays the blocks out as a U: the down path in the left column (top to bottom,
resolution falling), the middle along the bottom, the up path in the right column (bottom to
top), skip connections as dashed lines across, a dot on every block that adds the time + class
embedding. ``UNetPanel`` puts it next to a grid of the clicked block's channels; the page tells
it the run and position (``show_position``) and it asks its session for the maps.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.digits.outputs import grid
from engine.digits.types import FeatureMapsRequest
from playground_gui.tabs.reverse.unet_session import UNetSession, describe, normalised_tiles
from playground_gui.widgets.frame_view import ReadoutLine
from playground_gui.widgets.image_grid import GridCanvas

KIND_COLOURS = {"input": "#d7f5d7", "conv": "#d7f5d7", "output": "#d7f5d7",
                "resnet": "#cfe3ff", "attention": "#ffe0b2", "downsample": "#e4e4e4",
                "upsample": "#e4e4e4", "embedding": "#ffd6e7"}
EMBEDDING_DOT = "#d81b60"
SKIP_COLOUR = "#5c6bc0"
EXPLANATION = (
    "<b>The U-Net from the inside.</b> The network that predicts ε̂ at every step, drawn from "
    "the loaded model: the down path halves the resolution (16→8→4) while adding channels, the "
    "middle works on 4×4, the up path doubles it back; each up-path ResNet also takes an output "
    "of the down path at the same resolution (dashed: a skip connection), so fine detail need "
    "not squeeze through 4×4. The timestep and the digit enter as one vector (time + class "
    "embedding) that every ResNet (dot) adds to its channels. Click a block to see its output "
    "at the slider's step, one small image per channel. The output is ε̂, the noise in x_t, so "
    "the blocks next to it look like noise; the deep blocks (8×8, 4×4) carry the digit: near "
    "the end of the run its shape shows in many of their channels.")


class UNetDiagram(QWidget):
    """The blocks as boxes; clicking one emits its key."""

    block_clicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.structure = None
        self.selected: str | None = None
        self.rects: dict[str, QRectF] = {}
        self.setMinimumSize(380, 420)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(460, 520)

    def set_structure(self, structure) -> None:
        self.structure = structure
        self._layout()
        self.update()

    def select(self, key: str | None) -> None:
        self.selected = key
        self.update()

    def center_of(self, key: str) -> QPointF:
        return self.rects[key].center()

    # -- layout ----------------------------------------------------------------------------
    def _layout(self) -> None:
        self.rects = {}
        if self.structure is None:
            return
        blocks = self.structure.blocks
        down = [b for b in blocks if b.path in ("in", "down")]
        mid = [b for b in blocks if b.path == "mid"]
        up = [b for b in blocks if b.path in ("up", "out")][::-1]  # drawn top (out) to bottom
        embedding = [b for b in blocks if b.path == "embedding"]
        width, height = self.width(), self.height()
        margin, gap = 6.0, 4.0
        rows = max(len(down), len(up)) + 2  # + the embedding row on top and the middle row
        row = (height - 2 * margin) / rows
        box_h = max(14.0, row - gap)
        column_w = min(220.0, (width - 2 * margin) * 0.44)
        left, right = margin, width - margin - column_w
        top = margin + row  # below the embedding row
        for index, block in enumerate(down):
            self.rects[block.key] = QRectF(left, top + index * row, column_w, box_h)
        offset = len(up) - len(down) if len(up) < len(down) else 0
        for index, block in enumerate(up):
            self.rects[block.key] = QRectF(right, top + (index + offset) * row, column_w, box_h)
        mid_top = top + (rows - 2) * row
        if mid:
            mid_w = min(column_w, (width - 2 * margin - gap * (len(mid) - 1)) / len(mid))
            start = (width - len(mid) * mid_w - gap * (len(mid) - 1)) / 2
            for index, block in enumerate(mid):
                self.rects[block.key] = QRectF(start + index * (mid_w + gap), mid_top, mid_w,
                                               box_h)
        for block in embedding:
            embedding_w = min(width - 2 * margin, column_w * 1.3)
            self.rects[block.key] = QRectF((width - embedding_w) / 2, margin, embedding_w, box_h)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._layout()

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.fillRect(self.rect(), QColor("#fafafa"))
            if self.structure is None:
                painter.setPen(QColor("#777"))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                                 "Reading the model's blocks…")
                return
            self._paint_edges(painter)
            self._paint_blocks(painter)
        finally:
            painter.end()

    def _paint_edges(self, painter: QPainter) -> None:
        flow = [b for b in self.structure.blocks if b.path != "embedding"]
        painter.setPen(QPen(QColor("#888"), 1.5))
        for before, after in zip(flow, flow[1:], strict=False):
            a, b = self.rects[before.key], self.rects[after.key]
            if before.path == after.path == "mid":
                painter.drawLine(QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y()))
            elif after.path == "mid":
                painter.drawLine(QPointF(a.center().x(), a.bottom()), QPointF(b.left(), b.center().y()))
            elif before.path == "mid":
                painter.drawLine(QPointF(a.right(), a.center().y()), QPointF(b.center().x(), b.bottom()))
            elif after.path in ("up", "out"):
                painter.drawLine(QPointF(a.center().x(), a.top()), QPointF(b.center().x(), b.bottom()))
            else:
                painter.drawLine(QPointF(a.center().x(), a.bottom()), QPointF(b.center().x(), b.top()))
        painter.setPen(QPen(QColor(SKIP_COLOUR), 1.2, Qt.PenStyle.DashLine))
        for block in self.structure.blocks:
            if block.skip_from:
                a, b = self.rects[block.skip_from], self.rects[block.key]
                painter.drawLine(QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y()))
        embedding = next((b for b in self.structure.blocks if b.path == "embedding"), None)
        if embedding is not None:  # the embedding goes into both columns and the middle
            e = self.rects[embedding.key]
            painter.setPen(QPen(QColor(EMBEDDING_DOT), 1.0, Qt.PenStyle.DotLine))
            for x in (e.left(), e.right()):
                painter.drawLine(QPointF(x, e.center().y()),
                                 QPointF(x - 16 if x == e.left() else x + 16, e.center().y()))

    def _paint_blocks(self, painter: QPainter) -> None:
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, self.font().pointSizeF() - 1.5))
        for block in self.structure.blocks:
            rect = self.rects[block.key]
            selected = block.key == self.selected
            painter.setPen(QPen(QColor("#ff8f00" if selected else "#666"), 3 if selected else 1))
            painter.setBrush(QColor(KIND_COLOURS.get(block.kind, "#eee")))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setFont(small)
            metrics = painter.fontMetrics()
            shape = (f"{block.channels}×{block.height}×{block.width}" if block.kind != "embedding"
                     else f"{block.width}-vector")
            inner = rect.adjusted(11, 0, -4, 0)
            shape_w = metrics.horizontalAdvance(shape)
            if metrics.horizontalAdvance(block.title) + shape_w + 6 > inner.width():
                shape, shape_w = "", 0  # the title first; the shape is in the tooltip
            painter.setPen(QColor("#555"))
            painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             shape)
            painter.setPen(QColor("#222"))
            title = metrics.elidedText(block.title, Qt.TextElideMode.ElideRight,
                                       int(inner.width() - shape_w - 6))
            painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             title)
            if block.takes_embedding:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(EMBEDDING_DOT))
                painter.drawEllipse(QPointF(rect.left() + 6, rect.center().y()), 3, 3)
        painter.setFont(self.font())

    def key_at(self, point: QPointF) -> str | None:
        return next((key for key, rect in self.rects.items() if rect.contains(point)), None)

    def mouseMoveEvent(self, event) -> None:
        over = self.key_at(event.position())
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        block = self.structure.block(over) if over and self.structure else None
        self.setToolTip(_block_tip(block) if block else "")

    def mousePressEvent(self, event) -> None:
        key = self.key_at(event.position())
        if key is not None:
            self.select(key)
            self.block_clicked.emit(key)


def _block_tip(block) -> str:
    parts = [f"{block.title}: output {block.channels}×{block.height}×{block.width}"]
    if block.skip_from:
        parts.append(f"its input also takes the output of {block.skip_from} (skip connection)")
    if block.takes_embedding:
        parts.append("adds the time + class embedding to its channels")
    return "; ".join(parts)


class UNetPanel(QWidget):
    """The diagram, the controls and the feature grid of the clicked block."""

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.session = UNetSession(engine, self)
        self.selected = "down_blocks.1.attentions.0"
        self._position = None  # (run request, replay steps, step, sample, caption)
        intro = QLabel(EXPLANATION)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #444")
        self.diagram = UNetDiagram()
        self.diagram.block_clicked.connect(self.select_block)

        self.branch_combo = QComboBox()
        self.branch_combo.addItem("the run's digit (conditional)", "conditional")
        self.branch_combo.addItem("no class (unconditional)", "unconditional")
        self.branch_combo.setToolTip("Classifier-free guidance calls the U-Net twice per step: "
                                     "with the digit and with the “no class” token")
        self.branch_combo.currentIndexChanged.connect(lambda *_: self.refresh())
        self.per_channel_check = QCheckBox("each channel on its own scale", checked=True)
        self.per_channel_check.setToolTip("On: every small image is stretched over its own "
                                          "min … max. Off: one scale for the whole block, so "
                                          "weak channels look dark")
        self.per_channel_check.toggled.connect(lambda *_: self._show_maps())
        self.title = QLabel()
        self.title.setWordWrap(True)
        # Never widens the window: a long title wraps within the column it is given.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.canvas = GridCanvas(200, "One small image per channel of the block's output")
        self.caption = ReadoutLine(bold=False)
        self.status = QLabel("Run the sampler first (Sample), then click a block.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555")

        # Mirrors of the run's step slider and sample choice (the page keeps them in step).
        self.step_slider = QSlider(Qt.Orientation.Horizontal)
        self.step_slider.setToolTip("The step of the run (the same slider as on Sampling run)")
        self.step_slider.setRange(0, 0)
        self.sample_spin = QSpinBox(minimum=1, maximum=1)
        self.sample_spin.setToolTip("Which sample of the batch (left to right, top to bottom)")
        step_row = QHBoxLayout()
        step_row.addWidget(QLabel("Step"))
        step_row.addWidget(self.step_slider, 1)
        options = QHBoxLayout()
        options.addWidget(QLabel("Sample"))
        options.addWidget(self.sample_spin)
        options.addWidget(QLabel("Class token"))
        options.addWidget(self.branch_combo)
        options.addWidget(self.per_channel_check)
        options.addStretch(1)
        maps = QVBoxLayout()
        maps.addWidget(self.title)
        maps.addWidget(self.canvas, 1)
        maps.addWidget(self.caption)
        body = QHBoxLayout()
        body.addWidget(self.diagram, 5)
        body.addLayout(maps, 6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(step_row)
        layout.addLayout(options)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)

        self.session.structure_ready.connect(self._on_structure)
        self.session.maps_ready.connect(lambda result: self._show_maps())
        self.session.failed.connect(lambda message: self.status.setText("Failed: " + message))
        self.session.progress.connect(lambda update: self.status.setText(
            f"Replaying the run once to get its exact x_t (the recorded images are rounded): "
            f"{update.done}/{update.total}"))

    # -- what the page tells it ------------------------------------------------------------
    def set_position(self, run, replay_steps: int, step: int, sample: int, caption: str) -> None:
        """The run (a ReverseRequest with ``replay_steps`` recorded model calls), the step the
        slider shows and the sample chosen; asks for maps when the panel is visible."""
        self._position = (run, replay_steps, step, sample, caption)
        if self.isVisible():
            self.refresh()

    def follow(self, session, slider, sample_spin) -> None:
        """Take the first run of the page's ``ReverseSession`` at the page's slider (the final
        sample shows the last model call's maps) and sample choice; a run still going is not
        replayed."""
        with QSignalBlocker(self.step_slider), QSignalBlocker(self.sample_spin):
            self.step_slider.setRange(slider.minimum(), slider.maximum())
            self.step_slider.setValue(slider.value())
            self.sample_spin.setRange(sample_spin.minimum(), sample_spin.maximum())
            self.sample_spin.setValue(sample_spin.value())
        value, sample = slider.value(), sample_spin.value() - 1
        run = session.runs[0] if session.runs else None
        if run is None or run.result is None or not run.timesteps:
            self.clear_position("Run the sampler first (Sample); the maps follow the step slider."
                                if run is None or run.result is not None else
                                "The maps are computed once the run has finished.")
            return
        position = session.position(run, value)
        calls = len(run.timesteps)
        step = min(position, calls - 1)
        caption = (f"step {step + 1}/{calls}" if position < calls
                   else f"the final sample (the last model call, {calls}/{calls})")
        self.set_position(run.request, calls, step, min(sample, run.request.batch_size - 1),
                          caption)

    def clear_position(self, why: str) -> None:
        self._position = None
        self.status.setText(why)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.session.load_structure()
        self.refresh()

    def select_block(self, key: str) -> None:
        self.selected = key
        self.diagram.select(key)
        self._show_maps()

    def refresh(self):
        """Ask for the maps at the current position (cached answers show at once)."""
        if self._position is None:
            return None
        run, replay_steps, step, sample, caption = self._position
        request = FeatureMapsRequest(run, step, sample, replay_steps,
                                     self.branch_combo.currentData())
        self.status.setText(f"Feature maps at {caption}, sample {sample + 1}…")
        return self.session.request_maps(request)

    # -- showing ---------------------------------------------------------------------------
    def _on_structure(self, structure) -> None:
        self.diagram.set_structure(structure)
        self.diagram.select(self.selected)
        self.status.setText(f"{len(structure.blocks)} blocks, {structure.parameters:,} weights. "
                            + (self.status.text() if self._position is None else ""))

    def _show_maps(self) -> None:
        result = self.session.latest
        if result is None or self.selected not in result.maps:
            return
        maps = result.maps[self.selected]
        block = result.structure.block(self.selected)
        tiles = normalised_tiles(maps, self.per_channel_check.isChecked())
        columns = 1 if block.kind == "embedding" else None
        self.canvas.set_array(grid(tiles, columns=columns, gap=1, fill=90))
        extras = [f"{block.channels}×{block.height}×{block.width}"]
        if block.skip_from:
            extras.append(f"skip from {result.structure.block(block.skip_from).title}")
        if block.takes_embedding:
            extras.append("+ embedding")
        self.title.setText(f"<b>{block.title}</b> · " + " · ".join(extras))
        self.title.setToolTip(_block_tip(block))
        if block.kind == "embedding":
            self.caption.setText("rows: time embedding, class embedding, their sum (what every "
                                 "ResNet adds)")
        else:
            self.caption.setText(describe(maps))
        request = result.request
        token = f"digit {result.label}" if result.label < 10 else "no class"
        self.status.setText(f"Step {request.step + 1} (t = {result.timestep:.0f}), sample "
                            f"{request.sample + 1}, class token: {token}."
                            + (" The run was replayed once for this." if result.replayed else ""))
