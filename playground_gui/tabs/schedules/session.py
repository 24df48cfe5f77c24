"""The schedules tab without widgets: the curves and strips of the shared schedule set, the one
job that computes them (newest wins, debounced), and the hover readout's content.

The first look never waits for PyTorch: until the engine's first job returns, the curves are
numpy closed forms of diffusers' formulas (``engine.schedules.closed_form``, torch-free) and the
strips are placeholders (``provisional`` is true); the engine's curves and strips replace them.

Testable without a window: ``SchedulesSession(EngineClient(), ScheduleSet())``.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.images import make_test_card
from engine.schedules.closed_form import closed_form_curves
from engine.schedules.csv_export import write_schedule_csv
from engine.schedules.types import SCHEDULE_NAMES, ScheduleRequest, ScheduleSpec
from playground_gui.job_slots import JobSlot, Policy

# Colour-blind-friendly palette (Okabe–Ito), one colour per overlaid schedule.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

# Readout columns: key of ScheduleCurves.table(), header.
QUANTITIES = [
    ("beta", "β<sub>t</sub>"),
    ("alpha_bar", "ᾱ<sub>t</sub>"),
    ("log_snr", "log-SNR"),
    ("sqrt_alpha_bar", "√ᾱ<sub>t</sub>"),
    ("sqrt_one_minus_alpha_bar", "√(1−ᾱ<sub>t</sub>)"),
]
STRIP_STEPS = 10
REFRESH_DELAY_MS = 120  # edits in a row (typing T, spinning β) compute once


def color_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def format_value(value: float) -> str:
    if math.isinf(value):
        return "−∞" if value < 0 else "∞"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.3e}"
    return f"{value:.5f}"


def readout_html(t: int, rows, hint: str = "") -> str:
    """The hover table: ``rows`` are (label, values in QUANTITIES order, or None past its T)."""
    header = "".join(f"<th align='right'>&nbsp;{title}&nbsp;</th>" for _, title in QUANTITIES)
    lines = []
    for index, (label, values) in enumerate(rows):
        if values is None:
            cells = "<td colspan=5 align='center'>t beyond this schedule's T</td>"
        else:
            cells = "".join(f"<td align='right'>&nbsp;{format_value(value)}&nbsp;</td>"
                            for value in values)
        lines.append(f"<tr><td><span style='color:{color_for(index)}'>■</span> "
                     f"{label}</td>{cells}</tr>")
    hint = f" <span style='color:#555'>({hint})</span>" if hint else ""
    return (f"<b>t = {t}</b>{hint}<table cellspacing=0><tr><th></th>{header}</tr>" + "".join(lines)
            + "</table>")


def strip_timesteps(num_train_timesteps: int, count: int = STRIP_STEPS) -> tuple[int, ...]:
    """The strip's timesteps, as the engine picks them (``engine.schedules.curves``)."""
    return tuple(int(round(x)) for x in np.linspace(0, num_train_timesteps - 1, count))


def next_preset(specs) -> ScheduleSpec:
    """What "Add" overlays: the first schedule family not yet shown (linear when all are)."""
    shown = {spec.name for spec in specs}
    return ScheduleSpec.preset(next((n for n in SCHEDULE_NAMES if n not in shown), "linear"))


class SchedulesSession(QObject):
    result_changed = Signal()  # curves and strips of a finished job are current now
    first_look_changed = Signal()  # numpy's curves are current now (before the first job)
    failed = Signal(str)

    def __init__(self, engine, schedules, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.schedules = schedules  # the shared ScheduleSet (playground_gui/state.py)
        self.curves = ()  # ScheduleCurves shown, in list order: the last finished job's, or …
        self.strips = ()
        self.provisional = True  # … until the first job returns, numpy's (strips: None)
        self._show_closed_forms()
        self.strip_image = make_test_card(96)
        # Only the newest set of schedules matters: a new one cancels the running job.
        self.slot = JobSlot(engine, Policy.NEWEST_WINS, "Computing noise schedules", parent=self)
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.compute)
        schedules.changed.connect(self._refresh_timer.start)
        schedules.changed.connect(self._show_closed_forms)
        self._refresh_timer.start()

    @property
    def busy(self) -> bool:
        """A computation is waiting for the debounce or running."""
        return self._refresh_timer.isActive() or self.slot.busy

    def request(self) -> ScheduleRequest:
        return ScheduleRequest(specs=self.schedules.specs, strip_image=self.strip_image,
                               strip_steps=STRIP_STEPS, seed=0)

    def compute(self):
        """Compute the current set now; returns the job (None once the engine shut down)."""
        self._refresh_timer.stop()
        return self.slot.submit(self.request(), on_success=self._on_result,
                                on_failure=self.failed.emit)

    def _on_result(self, result) -> None:
        self.provisional = False
        self.curves = result.curves
        self.strips = result.strips
        self.result_changed.emit()

    def _show_closed_forms(self) -> None:
        """Before the engine's first answer, the set's curves at once, from numpy."""
        if not self.provisional:
            return
        self.curves = tuple(closed_form_curves(spec) for spec in self.schedules.specs)
        self.strips = (None,) * len(self.curves)
        self.first_look_changed.emit()

    # -- reading the curves ----------------------------------------------------------------
    @property
    def longest(self) -> int:
        """T of the longest shown schedule (0 before the first result)."""
        return max((len(c.betas) for c in self.curves), default=0)

    def timestep_at(self, x: float) -> int:
        """The timestep nearest plot coordinate ``x``, inside the longest schedule."""
        return int(round(min(max(x, 0), self.longest - 1)))

    def readout(self, t: int | None) -> str:
        """The hover table at ``t``; without a t, at the middle one with a hint (empty before
        the first result)."""
        if not self.curves:
            return ""
        hint = ""
        if t is None:
            t = self.longest // 2
            hint = "hover over a plot to read another timestep"
        rows = []
        for curves in self.curves:
            if t >= len(curves.betas):
                rows.append((curves.spec.label, None))
            else:
                table = curves.table()
                rows.append((curves.spec.label, [table[key][t] for key, _ in QUANTITIES]))
        return readout_html(t, rows, hint)

    def export_csv(self, path: str) -> None:
        write_schedule_csv(path, self.curves, with_schedule_column=len(self.curves) > 1)
