"""The schedules tab's session, binding and pointer throttle, without a window."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from engine.schedules.types import SCHEDULE_NAMES, ScheduleSpec
from playground_gui.state import ScheduleSet
from playground_gui.tabs.schedules.binding import BETA_RANGE, SCHEDULE_BINDING, TIMESTEPS_RANGE
from playground_gui.tabs.schedules.session import SchedulesSession, next_preset
from playground_gui.tabs.schedules.throttle import LatestOnly


def test_a_burst_of_edits_computes_once_and_reads_out(qtbot, engine):
    schedules = ScheduleSet()
    session = SchedulesSession(engine, schedules)
    results = []
    session.result_changed.connect(lambda: results.append(len(session.curves)))
    for steps in (100, 200, 300):  # typed into T: only the last set is computed
        schedules.set_current_spec(dataclasses.replace(schedules.current, num_train_timesteps=steps))
    assert session.busy
    qtbot.waitUntil(lambda: not session.busy, timeout=60_000)
    assert results == [3]
    assert [len(c.betas) for c in session.curves] == [300, 1000, 1000]
    assert len(session.strips) == 3 and session.longest == 1000

    assert session.timestep_at(-7.2) == 0 and session.timestep_at(1e9) == 999
    assert session.timestep_at(41.6) == 42
    middle = session.readout(None)
    assert "t = 500" in middle and "hover" in middle
    text = session.readout(321)
    assert "t = 321" in text and "hover" not in text
    assert f"{session.curves[1].alphas_cumprod[321]:.5f}" in text
    assert "t beyond this schedule's T" in session.readout(600)  # the T = 300 one


def test_nothing_is_computed_once_the_engine_shut_down(qtbot, engine):
    session = SchedulesSession(engine, ScheduleSet())
    engine.shutdown()
    # No engine result ever arrives: the numpy first look stays (issue 13; it was empty before).
    assert session.compute() is None and not session.busy and session.provisional
    assert session.strips == (None, None, None)


def test_add_overlays_the_first_family_not_shown():
    assert next_preset(ScheduleSet().specs) == ScheduleSpec.preset("sigmoid")
    every = [ScheduleSpec.preset(name) for name in SCHEDULE_NAMES]
    assert next_preset(every) == ScheduleSpec.preset("linear")


def editor(qtbot):
    """The editor's controls as the view builds them, without the view."""
    name_combo = QComboBox()
    name_combo.addItems(list(SCHEDULE_NAMES))
    spins = [QDoubleSpinBox(decimals=6, minimum=BETA_RANGE[0], maximum=BETA_RANGE[1]) for _ in "se"]
    return SimpleNamespace(name_combo=name_combo, zero_snr_check=QCheckBox(),
                           timesteps_spin=QSpinBox(minimum=TIMESTEPS_RANGE[0],
                                                   maximum=TIMESTEPS_RANGE[1]),
                           beta_start_spin=spins[0], beta_end_spin=spins[1])


def test_the_binding_shows_a_spec_and_builds_it_back(qtbot):
    view = editor(qtbot)
    spec = ScheduleSpec("sigmoid", 250, 0.0003, 0.03, rescale_zero_snr=True)
    assert SCHEDULE_BINDING.restore(view, dataclasses.asdict(spec)) == []
    assert view.name_combo.currentText() == "sigmoid" and view.zero_snr_check.isChecked()
    assert ScheduleSpec(**SCHEDULE_BINDING.read(view)) == spec
    # A valid β below what the spin box shows goes to its end, as before (no refusal note).
    tiny = dataclasses.replace(spec, beta_start=5e-7)
    assert SCHEDULE_BINDING.restore(view, dataclasses.asdict(tiny)) == []
    assert view.beta_start_spin.value() == BETA_RANGE[0]


def test_many_pointer_moves_give_one_update_with_the_last_position(qtbot):
    throttle = LatestOnly()
    fired = []
    throttle.fired.connect(fired.append)
    for x in range(500):  # faster than any repaint: nothing is handled yet
        throttle.push(x)
    assert fired == [] and throttle.pending
    qtbot.waitUntil(lambda: not throttle.pending)
    assert fired == [499]
    throttle.push(7)
    throttle.flush()
    assert fired == [499, 7] and not throttle.pending


def test_the_first_look_has_curves_before_any_engine(qtbot):
    """Issue 13: numpy's curves are there at once, without an engine (and without torch);
    edits before the engine's first answer update them, and its answer replaces them."""
    from engine.schedules.closed_form import closed_form_curves
    from engine.schedules.types import ScheduleResult
    from playground_gui.engine_client import EngineClient
    from playground_gui.tabs.schedules.session import STRIP_STEPS, strip_timesteps

    schedules = ScheduleSet()
    session = SchedulesSession(EngineClient(), schedules)  # never started
    assert session.provisional and [c.spec for c in session.curves] == list(schedules.specs)
    assert session.strips == (None,) * len(schedules.specs)
    assert "t = 500" in session.readout(None) and "t = 42" in session.readout(42)
    shown = []
    session.first_look_changed.connect(lambda: shown.append(session.curves[0].spec.num_train_timesteps))
    schedules.set_current_spec(dataclasses.replace(schedules.current, num_train_timesteps=250))
    assert shown == [250] and len(session.curves[0].betas) == 250

    engine_curves = tuple(closed_form_curves(spec) for spec in schedules.specs)
    session._on_result(ScheduleResult(curves=engine_curves, strips=(None,) * 3))
    assert not session.provisional and session.curves is engine_curves
    schedules.set_current_spec(dataclasses.replace(schedules.current, num_train_timesteps=300))
    assert shown == [250] and session.curves is engine_curves  # the engine's from now on
    session._refresh_timer.stop()
    # The placeholder strip's timesteps are the engine's.
    from engine.schedules.curves import strip_timesteps as engine_strip_timesteps

    for steps in (2, 10, 999, 1000, 4000):
        assert strip_timesteps(steps) == engine_strip_timesteps(steps, STRIP_STEPS)
