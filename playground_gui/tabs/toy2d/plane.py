"""Pieces for plots of points in the plane: the square planes themselves, a view box you can
draw points on, points that let clicks through, and a vector field drawn as one line item
(pyqtgraph's ArrowItem is one item per arrow: too slow for 600)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

EXTENT = 3.0  # the planes show [−3, 3]²: unit-variance data and N(0, I) noise both fit


def make_plane(title: str, view_box: pg.ViewBox | None = None) -> pg.PlotWidget:
    widget = pg.PlotWidget(viewBox=view_box)
    widget.setBackground("w")
    plot = widget.getPlotItem()
    plot.setTitle(title, size="10pt")
    plot.setAspectLocked(True)
    plot.setRange(xRange=(-EXTENT, EXTENT), yRange=(-EXTENT, EXTENT), padding=0)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMenuEnabled(False)
    plot.setLabel("bottom", "x")
    plot.setLabel("left", "y")
    return widget


class PassiveScatter(pg.ScatterPlotItem):
    """Points that let clicks through: on the drawing plane a click on an existing point must
    add a point (pyqtgraph's scatter takes clicks on its points for itself)."""

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        ev.ignore()


class DrawableViewBox(pg.ViewBox):
    """A ViewBox that, while ``drawing`` is on, turns clicks and drags into points in data
    coordinates (``points_added``) instead of panning."""

    points_added = Signal(object)  # (n, 2) float array

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.drawing = False
        self._last = None

    def _emit(self, scene_pos) -> None:
        point = self.mapSceneToView(scene_pos)
        self.points_added.emit(np.array([[point.x(), point.y()]]))

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        if self.drawing and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._emit(ev.scenePos())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (Qt naming)
        if self.drawing and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            # One point per ~4 pixels of movement: a stroke becomes an even trail of points.
            position = ev.scenePos()
            if self._last is None or ev.isStart() or (position - self._last).manhattanLength() > 4:
                self._last = position
                self._emit(position)
            if ev.isFinish():
                self._last = None
        else:
            super().mouseDragEvent(ev, axis)


def arrow_segments(positions: np.ndarray, vectors: np.ndarray, head: float = 0.3) -> np.ndarray:
    """Line segments (pairs of points) drawing one arrow per position: a shaft along the vector
    and two head strokes at ±150° of ``head`` × its length. Returns (6·n, 2) for connect="pairs"."""
    tips = positions + vectors
    angle = np.arctan2(vectors[:, 1], vectors[:, 0])
    length = np.hypot(vectors[:, 0], vectors[:, 1]) * head
    segments = [positions, tips]
    for turn in (np.pi * 5 / 6, -np.pi * 5 / 6):
        end = tips + length[:, None] * np.stack([np.cos(angle + turn), np.sin(angle + turn)], 1)
        segments += [tips, end]
    # Interleave as (start, end) pairs: shaft, left head, right head for each arrow.
    pairs = np.stack(segments, axis=1)  # (n, 6, 2)
    return pairs.reshape(-1, 2)


class VectorFieldItem(pg.PlotCurveItem):
    """Arrows for a whole grid in one curve item."""

    def __init__(self, color=(120, 60, 160, 140)):
        super().__init__(pen=pg.mkPen(color, width=1.2), connect="pairs", antialias=True)

    def set_field(self, positions: np.ndarray, vectors: np.ndarray) -> None:
        segments = arrow_segments(positions, vectors)
        self.setData(segments[:, 0], segments[:, 1], connect="pairs")

    def clear_field(self) -> None:
        self.setData([], [])
