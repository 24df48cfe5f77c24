"""Paint an inpainting mask over an image: brush, eraser, invert, clear (white = repaint)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from playground_gui.widgets.images import qimage_from_array


class MaskPainter(QWidget):
    mask_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.brush_size = 24  # in image pixels
        self.erasing = False
        self._image: QImage | None = None
        self._mask: QImage | None = None
        self._last: QPointF | None = None
        self.setMinimumSize(QSize(200, 200))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Paint the area to repaint (red). Right button erases.")

    # -- data ------------------------------------------------------------------------------
    def set_image(self, image: np.ndarray | None) -> None:
        """A new image clears the mask unless it has the same size."""
        if image is None:
            self._image = self._mask = None
        else:
            self._image = qimage_from_array(np.asarray(image)[..., :3])
            if self._mask is None or self._mask.size() != self._image.size():
                self._mask = QImage(self._image.size(), QImage.Format.Format_Grayscale8)
                self._mask.fill(0)
        self.update()
        self.mask_changed.emit()

    def has_image(self) -> bool:
        return self._image is not None

    def mask(self) -> np.ndarray | None:
        if self._mask is None:
            return None
        width, height = self._mask.width(), self._mask.height()
        buffer = np.frombuffer(self._mask.constBits(), dtype=np.uint8)
        return buffer.reshape(height, self._mask.bytesPerLine())[:, :width].copy()

    def set_mask(self, mask: np.ndarray) -> None:
        self._mask = qimage_from_array(np.asarray(mask, dtype=np.uint8))
        self.update()
        self.mask_changed.emit()

    def coverage(self) -> float:
        mask = self.mask()
        return float((mask > 127).mean()) if mask is not None else 0.0

    def clear(self) -> None:
        if self._mask is not None:
            self._mask.fill(0)
            self.update()
            self.mask_changed.emit()

    def invert(self) -> None:
        if self._mask is not None:
            self.set_mask(255 - self.mask())

    # -- painting --------------------------------------------------------------------------
    def _image_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        w, h = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_image(self, point: QPointF) -> QPointF:
        rect = self._image_rect()
        scale = self._image.width() / rect.width()
        return QPointF((point.x() - rect.x()) * scale, (point.y() - rect.y()) * scale)

    def paint_stroke(self, start: QPointF, end: QPointF, erase: bool | None = None) -> None:
        """A brush stroke between two points in image coordinates."""
        if self._mask is None:
            return
        erase = self.erasing if erase is None else erase
        painter = QPainter(self._mask)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        colour = QColor(0, 0, 0) if erase else QColor(255, 255, 255)
        pen = QPen(colour, self.brush_size, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLine(start, end)
        painter.end()
        self.update()
        self.mask_changed.emit()

    def mousePressEvent(self, event) -> None:
        if self._image is None:
            return
        self._last = self.to_image(event.position())
        self._erase_stroke = event.button() == Qt.MouseButton.RightButton or self.erasing
        self.paint_stroke(self._last, self._last, self._erase_stroke)

    def mouseMoveEvent(self, event) -> None:
        if self._last is not None and event.buttons():
            point = self.to_image(event.position())
            self.paint_stroke(self._last, point, self._erase_stroke)
            self._last = point
        self.update()

    def mouseReleaseEvent(self, event) -> None:
        self._last = None

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#20232a"))
        if self._image is None:
            painter.setPen(QColor("#ccc"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Open an image (or use a result) to paint a mask on it")
            return
        rect = self._image_rect()
        painter.drawImage(rect, self._image)
        if self._mask is not None:
            overlay = QImage(self._mask.size(), QImage.Format.Format_ARGB32)
            overlay.fill(QColor(230, 30, 30))
            overlay.setAlphaChannel(self._mask)
            painter.setOpacity(0.55)
            painter.drawImage(rect, overlay)
            painter.setOpacity(1.0)
        cursor = self.mapFromGlobal(self.cursor().pos())
        if rect.contains(QPointF(cursor)):
            radius = self.brush_size / 2 * rect.width() / self._image.width()
            painter.setPen(QPen(QColor("white"), 1, Qt.PenStyle.DashLine))
            painter.drawEllipse(QPointF(cursor), radius, radius)
