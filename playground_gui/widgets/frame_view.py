"""An image view that paints straight from a numpy buffer: no copy, no pixmap, no layout work.

Made for scrubbing: the owner rewrites the buffer in place and calls ``update()`` (or
``repaint()``); the view keeps a QImage that wraps the same memory and draws it scaled to fit,
aspect kept, with nearest-neighbour sampling so single noise pixels stay visible.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


def wrap_array(array: np.ndarray) -> QImage:
    """A QImage over ``array``'s memory (the caller keeps ``array`` alive).

    HxWx4 uint8 is taken as Format_RGB32 (see engine.forward_frames.FrameRenderer), HxWx3 as
    RGB888, HxWx1 or HxW as Grayscale8.
    """
    if not array.flags.c_contiguous or array.dtype != np.uint8:
        raise ValueError("wrap_array needs a C-contiguous uint8 array")
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    formats = {1: QImage.Format.Format_Grayscale8, 3: QImage.Format.Format_RGB888,
               4: QImage.Format.Format_RGB32}
    return QImage(array.data, width, height, array.strides[0], formats[channels])


class FrameView(QWidget):
    resized = Signal()

    def __init__(self, placeholder: str = "", minimum: int = 96, parent=None):
        super().__init__(parent)
        self.placeholder = placeholder
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.background = QColor("#f3f3f3")

    def set_array(self, array: np.ndarray | None) -> None:
        """Show ``array`` (kept by reference: later in-place changes show after ``update()``)."""
        if array is not None:
            array = np.ascontiguousarray(array, dtype=np.uint8)
        self._array = array
        self._image = wrap_array(array) if array is not None else None
        self.update()

    @property
    def array(self) -> np.ndarray | None:
        return self._array

    def image_rect(self) -> QRect:
        """Where the image lands in the widget: fitted, centred, aspect kept."""
        if self._image is None:
            return QRect()
        size = QSize(self._image.width(), self._image.height()).scaled(
            self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def device_size(self) -> tuple[int, int]:
        """The widget's size in device pixels (what a sharp image needs)."""
        ratio = self.devicePixelRatioF()
        return round(self.width() * ratio), round(self.height() * ratio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.background)
            if self._image is None:
                painter.setPen(QColor("#777"))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                                 self.placeholder)
                return
            painter.drawImage(self.image_rect(), self._image)
        finally:
            painter.end()


class ReadoutLine(QWidget):
    """One line of text that changes every frame without re-running any layout.

    QLabel.setText invalidates the layout of the whole page (~3 ms here per frame, a rich-text
    label ~5 ms); this widget has a fixed height and only repaints itself.
    """

    def __init__(self, text: str = "", bold: bool = True, centred: bool = False, parent=None):
        super().__init__(parent)
        self._text = text
        self._alignment = Qt.AlignmentFlag.AlignVCenter | (
            Qt.AlignmentFlag.AlignHCenter if centred else Qt.AlignmentFlag.AlignLeft)
        if bold:
            font = self.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.1)
            self.setFont(font)
        self.setFixedHeight(self.fontMetrics().height() + 8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.setPen(self.palette().windowText().color())
            painter.drawText(self.rect().adjusted(4, 0, -4, 0), self._alignment, self._text)
        finally:
            painter.end()
