"""The forward page's session without a window: newest load wins, results, exports, restore."""

from __future__ import annotations

import pytest

from engine.forward.types import LoadImageRequest
from engine.png.chunks import read_png_metadata
from engine.schedules.types import ScheduleSpec
from playground_gui.engine_client import EngineClient
from playground_gui.state import ScheduleSet
from playground_gui.tabs.forward.session import ForwardSession


@pytest.fixture
def session(qtbot):
    engine = EngineClient()
    engine.start()
    session = ForwardSession(engine, ScheduleSet())
    yield session
    engine.shutdown()


def settled(session) -> bool:
    return session.idle and session.pending_load is None and session.renderer is not None


def test_the_newest_load_wins_and_is_computed_at_full_size_without_a_view(qtbot, session):
    arrived = []
    session.image_loaded.connect(lambda loaded: arrived.append(loaded.source))
    session.load(LoadImageRequest(source_key="coffee", working_size=64))
    session.load(LoadImageRequest(source_key="test_card", working_size=64, grayscale=True))
    qtbot.waitUntil(lambda: settled(session), timeout=60_000)
    assert arrived == [session.loaded.source]  # the replaced load never reached the page
    assert session.loaded_request.source_key == "test_card"
    assert session.result.x0.shape == (64, 64, 1) and session.result.seed == 0
    assert session.renderer.display_size == (64, 64)
    assert session.noise_pixels.shape == (64, 64, 1)


def test_an_export_restores_its_schedule_and_t_and_a_missing_file_is_noted(qtbot, session,
                                                                           tmp_path):
    statuses = []
    session.status.connect(lambda text, error: statuses.append((text, error)))
    session.load(LoadImageRequest(source_key="test_card", working_size=48))
    qtbot.waitUntil(lambda: settled(session), timeout=60_000)
    session.set_seed(5)
    qtbot.waitUntil(lambda: settled(session) and session.result.seed == 5, timeout=60_000)
    session.export_frame(str(tmp_path / "frame.png"), 40)
    record = read_png_metadata(tmp_path / "frame.png").request
    assert (record["seed"], record["t"], record["working_size"]) == (5, 40, 48)
    assert record["source_key"] == "test_card" and record["grayscale"] is False

    session.schedules.set_current_index(1)
    session.schedule_changed()
    qtbot.waitUntil(lambda: settled(session) and session.result.spec.name == "cosine",
                    timeout=60_000)
    missing = str(tmp_path / "gone.png")
    record = {**record, "source_key": None, "path": missing}
    notes = session.restore_schedule(record["schedule"])
    notes += session.restore_image(record, working_size=48, grayscale=False)
    assert notes == [f"the image {missing} no longer exists (still showing "
                     f"{session.loaded.source})"]
    assert session.finish_restore(notes) is False
    qtbot.waitUntil(lambda: settled(session) and session.result.spec == ScheduleSpec.preset("linear"),
                    timeout=60_000)
    assert session.take_restore_t() == 40 and session.take_restore_t() is None
    text, error = statuses[-1]
    assert error and "seed 5" in text and "no longer exists" in text
