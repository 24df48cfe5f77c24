"""An image view that paints straight from a numpy buffer: no copy, no pixmap, no layout work.

Made for scrubbing: the owner rewrites the buffer in place and calls ``update()`` (or
``repaint()``); the view keeps a QImage that wraps the same memory and draws it scaled to fit,
aspect kept, with nearest-neighbour sampling so single noise pixels stay visible.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from playground_gui.widgets.images import RGBA8888, wrap_array


class FrameView(QWidget):
    resized = Signal()

    def __init__(self, placeholder: str = "", minimum: int = 96, parent=None, *,
                 four_channel: str = RGBA8888):
        """``four_channel``: what HxWx4 arrays hold (``playground_gui.widgets.images``)."""
        super().__init__(parent)
        self.placeholder = placeholder
        self.four_channel = four_channel
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
        self._image = wrap_array(array, self.four_channel) if array is not None else None
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
    """Text that changes every frame without re-running any layout: ``lines`` lines (split at
    "\n"), each elided with "…" should the widget ever be narrower than it.

    QLabel.setText invalidates the layout of the whole page (~3 ms here per frame, a rich-text
    label ~5 ms) and moves its neighbours when the text's length changes; this widget has a
    fixed height, never asks for more width, and only repaints itself. ``fit(samples)`` sizes
    it for the longest texts it will show: it asks for their width, and on a narrower window
    draws them in a smaller font (down to ``SMALLEST`` of its own) rather than cutting them.
    """

    SMALLEST = 0.75

    MARGIN = 4

    def __init__(self, text: str = "", bold: bool = True, centred: bool = False, lines: int = 1,
                 parent=None):
        super().__init__(parent)
        self._text = text
        self._lines = lines
        self._alignment = Qt.AlignmentFlag.AlignVCenter | (
            Qt.AlignmentFlag.AlignHCenter if centred else Qt.AlignmentFlag.AlignLeft)
        if bold:
            font = self.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.1)
            self.setFont(font)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(0)
        self.base_font = QFont(self.font())
        self._samples: tuple[str, ...] = ()
        self._wanted = 0

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update()

    def text_width(self, text: str | None = None, font: QFont | None = None) -> int:
        """Pixels the widest line of ``text`` (default: the text shown) needs in ``font``
        (default: the font it draws with now), margins included."""
        lines = (self._text if text is None else text).split("\n")
        metrics = QFontMetrics(font) if font is not None else self.fontMetrics()
        return max(metrics.horizontalAdvance(line) for line in lines) + 2 * self.MARGIN + 2

    def fits(self) -> bool:
        return self.text_width() <= self.width()

    def fit(self, samples) -> None:
        """Size for the widest of ``samples`` (the longest texts it will show)."""
        self._samples = tuple(samples)
        self._wanted = max(self.text_width(sample, self.base_font) for sample in self._samples)
        self.setMinimumWidth(math.ceil(self._wanted * self.SMALLEST))
        self._fit_font()

    def _fit_font(self) -> None:
        if not self._samples:
            return
        font = QFont(self.base_font)
        if self.width() < self._wanted:
            size = self.base_font.pointSizeF() * max(self.SMALLEST, self.width() / self._wanted)
            font.setPointSizeF(math.floor(size * 4) / 4)  # quarter points: no flicker on resize
        if font != self.font():
            self.setFont(font)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_font()

    def sizeHint(self) -> QSize:
        return QSize(max(self._wanted, self.minimumWidth()), self.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            painter.setPen(self.palette().windowText().color())
            metrics = self.fontMetrics()
            area = self.rect().adjusted(self.MARGIN, 4, -self.MARGIN, -4)
            lines = self._text.split("\n")[: self._lines]
            step = metrics.lineSpacing()
            top = area.top() + (area.height() - step * len(lines)) // 2
            for index, line in enumerate(lines):
                shown = metrics.elidedText(line, Qt.TextElideMode.ElideRight, area.width())
                row = QRect(area.left(), top + index * step, area.width(), step)
                painter.drawText(row, self._alignment, shown)
        finally:
            painter.end()
