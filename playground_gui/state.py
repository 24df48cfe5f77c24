"""State shared between tabs: the overlaid noise schedules and which one is current.

The Noise schedules tab edits it (the Forward page edits the current one's T too); the Forward
page and the 2D toy read the current schedule. One model, so a change in one tab shows in the
others.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.schedules.types import ScheduleSpec

DEFAULT_SCHEDULES = (
    ScheduleSpec.preset("linear"),
    ScheduleSpec.preset("cosine"),
    ScheduleSpec.preset("scaled_linear"),
)


class ScheduleSet(QObject):
    changed = Signal()  # the list or any entry changed
    current_changed = Signal(int)

    def __init__(self, specs=DEFAULT_SCHEDULES, parent=None):
        super().__init__(parent)
        self._specs: list[ScheduleSpec] = list(specs)
        self._current = 0

    @property
    def specs(self) -> tuple[ScheduleSpec, ...]:
        return tuple(self._specs)

    @property
    def current_index(self) -> int:
        return self._current

    @property
    def current(self) -> ScheduleSpec:
        return self._specs[self._current]

    def set_current_index(self, index: int) -> None:
        index = max(0, min(index, len(self._specs) - 1))
        if index != self._current:
            self._current = index
            self.current_changed.emit(index)

    def replace(self, index: int, spec: ScheduleSpec) -> None:
        if self._specs[index] != spec:
            self._specs[index] = spec
            self.changed.emit()

    def set_current_spec(self, spec: ScheduleSpec) -> None:
        self.replace(self._current, spec)

    def append(self, spec: ScheduleSpec) -> None:
        self._specs.append(spec)
        self.changed.emit()
        self.set_current_index(len(self._specs) - 1)

    def remove(self, index: int) -> None:
        if len(self._specs) <= 1:
            return  # always keep one schedule: the other tabs need a current one
        del self._specs[index]
        self._current = min(self._current, len(self._specs) - 1)
        self.changed.emit()
        self.current_changed.emit(self._current)

    def reset(self) -> None:
        self._specs = list(DEFAULT_SCHEDULES)
        self._current = 0
        self.changed.emit()
        self.current_changed.emit(0)
