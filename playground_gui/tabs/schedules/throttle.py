"""At most one update per frame from a rapid-fire signal, and the last value always wins.

The schedules crosshair follows the pointer: every mouse move maps a position, moves four lines
and rebuilds the readout table. Moves arrive far faster than the screen repaints, so they are
collected here and only the newest is handled, about 60 times a second.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

FRAME_MS = 16  # ~60 Hz


class LatestOnly(QObject):
    fired = Signal(object)  # the newest value pushed since the last firing

    def __init__(self, interval_ms: int = FRAME_MS, parent=None):
        super().__init__(parent)
        self._timer = QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self.flush)
        self._value = None
        self._pending = False

    @property
    def pending(self) -> bool:
        return self._pending

    def push(self, value) -> None:
        """Keep ``value`` (replacing any not yet fired); it fires within one interval."""
        self._value, self._pending = value, True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Fire the pending value now, if any."""
        self._timer.stop()
        if self._pending:
            value, self._value, self._pending = self._value, None, False
            self.fired.emit(value)
