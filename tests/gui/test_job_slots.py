"""The one job-lifecycle helper: newest wins, coalescing, one at a time, and shutdown."""

from __future__ import annotations

from engine.schedules.types import ScheduleRequest, ScheduleSpec
from playground_gui.job_slots import JobSlot, Policy


def request(steps: int) -> ScheduleRequest:
    return ScheduleRequest((ScheduleSpec.preset("linear", steps),))


def lengths(result) -> int:
    return len(result.curves[0].betas)


def test_newest_wins_delivers_only_the_newest_outcome(qtbot, engine):
    slot = JobSlot(engine, Policy.NEWEST_WINS, "curves")
    seen = []
    for steps in (100, 200, 300):
        slot.submit(request(steps), on_success=lambda result: seen.append(lengths(result)),
                    on_cancel=lambda partial: seen.append("cancelled"))
    qtbot.waitUntil(lambda: not slot.busy, timeout=60_000)
    assert seen == [300]


def test_coalesce_runs_the_running_job_and_then_only_the_latest_request(qtbot, engine):
    slot = JobSlot(engine, Policy.COALESCE, "curves")
    seen = []
    handles = [slot.submit(request(steps), on_success=lambda result: seen.append(lengths(result)))
               for steps in (100, 200, 300)]
    assert handles[0] is not None and handles[1:] == [None, None]  # the later two wait
    qtbot.waitUntil(lambda: len(seen) == 2 and not slot.busy, timeout=60_000)
    assert seen == [100, 300]  # 200 was superseded before it ever ran


def test_exclusive_refuses_while_busy_and_nothing_runs_after_shutdown(qtbot, engine):
    slot = JobSlot(engine, Policy.EXCLUSIVE, "curves")
    first = slot.submit(request(100))
    assert first is not None and slot.submit(request(200)) is None
    qtbot.waitUntil(lambda: not slot.busy, timeout=60_000)
    engine.shutdown()
    assert slot.submit(request(300)) is None and not slot.busy


def test_a_slot_labels_its_jobs_with_its_owner(qtbot, engine):
    slot = JobSlot(engine, Policy.EXCLUSIVE, "curves", owner="Noise schedules")
    handle = slot.submit(request(100))
    assert handle.owner == "Noise schedules" and handle.description == "curves"
    qtbot.waitUntil(lambda: not slot.busy, timeout=60_000)
