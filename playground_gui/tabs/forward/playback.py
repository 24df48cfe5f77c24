"""Play / pause: the slider moves on its own at the chosen speed until it reaches T−1."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer
from PySide6.QtWidgets import QComboBox, QPushButton, QSlider, QStyle

PLAY_INTERVAL_MS = 16


class Playback(QObject):
    """Drives ``slider`` while the checkable ``button`` is down, at the timesteps per second
    that ``speed_combo``'s current item holds; the elapsed time decides each step, so a slow
    frame skips timesteps instead of slowing the play down."""

    def __init__(self, slider: QSlider, button: QPushButton, speed_combo: QComboBox, parent=None):
        super().__init__(parent)
        self.slider, self.button, self.speed_combo = slider, button, speed_combo
        self.timer = QTimer(self, interval=PLAY_INTERVAL_MS)
        self.timer.timeout.connect(self._advance)
        self._clock = QElapsedTimer()
        self._position = 0.0
        self._show_state(False)
        button.toggled.connect(self._on_toggled)

    def _show_state(self, playing: bool) -> None:
        # The style's own icons: a glyph such as ⏸ is missing from many fonts (an empty box).
        icon = (QStyle.StandardPixmap.SP_MediaPause if playing
                else QStyle.StandardPixmap.SP_MediaPlay)
        self.button.setIcon(self.button.style().standardIcon(icon))
        self.button.setText("Pause" if playing else "Play")

    def _on_toggled(self, playing: bool) -> None:
        self._show_state(playing)
        if playing:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self._position = float(self.slider.value())
            self._clock.start()
            self.timer.start()
        else:
            self.timer.stop()

    def _advance(self) -> None:
        elapsed = self._clock.restart() / 1000.0
        self._position += elapsed * float(self.speed_combo.currentData())
        t = min(int(self._position), self.slider.maximum())
        self.slider.setValue(t)
        if t >= self.slider.maximum():
            self.button.setChecked(False)
