"""The save bar writes PNGs on its own writer thread: the GUI thread never waits for encoding or
fsync, the names keep the order of the saves, and closing the window waits for what is in flight."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import playground_gui.widgets.save_bar as save_bar_module
from engine.png.a1111 import GenerationParameters
from engine.png.chunks import read_png_metadata
from engine.png.saving import SaveItem
from playground_gui.preferences import OUTPUT_FOLDER_KEY
from playground_gui.widgets.save_bar import SaveBar


def item(seed: int) -> SaveItem:
    return SaveItem(np.full((16, 16, 3), 40 * seed % 256, np.uint8),
                    GenerationParameters(prompt="held", seed=seed), "digits", {"seed": seed})


@pytest.fixture
def held_writer(monkeypatch):
    """The writer thread stops before each save until ``gate`` is set; ``threads`` records
    where each save ran."""
    gate, threads = threading.Event(), []
    real = save_bar_module.save_item

    def held(save, folder):
        threads.append(threading.current_thread())
        gate.wait(60)
        return real(save, folder)

    monkeypatch.setattr(save_bar_module, "save_item", held)
    yield gate, threads
    gate.set()  # never leave the writer waiting


def pngs(folder):
    return sorted(path.name for path in folder.glob("*.png")) if folder.exists() else []


def test_saving_returns_at_once_and_writes_on_the_writer_thread(qtbot, settings, tmp_path,
                                                               held_writer):
    gate, threads = held_writer
    out = tmp_path / "out"
    settings.setValue(OUTPUT_FOLDER_KEY, str(out))
    bar = SaveBar(settings, "digits", lambda: [item(5)], lambda: [item(6), item(7)])
    qtbot.addWidget(bar)

    first = bar.save_current()  # returns while the writer is held: nothing is on disk yet
    second = bar.save_all()
    assert not first.finished and not second.finished and bar.busy
    assert len(bar.pending) == 3 and pngs(out) == [] and bar.status.text() == ""

    with qtbot.waitSignal(bar.saved) as saved:
        gate.set()
    assert [p.name for p in saved.args[0]] == ["00001-5.png"]
    assert all(thread is not threading.main_thread() for thread in threads)
    # Reading a batch waits for it; the names follow the order the saves were asked for.
    assert [p.name for p in second] == ["00002-6.png", "00003-7.png"]
    assert pngs(out) == ["00001-5.png", "00002-6.png", "00003-7.png"]
    assert bar.pending == [] and not bar.busy
    assert bar.status.text().startswith("Saved 2 images (00002-6.png … 00003-7.png) in ")
    assert read_png_metadata(out / "00003-7.png").request == {"seed": 7}


def test_closing_the_window_waits_for_a_save_in_flight(qtbot, settings, tmp_path, held_writer,
                                                      monkeypatch):
    from playground_gui.main_window import MainWindow

    gate, _threads = held_writer
    out = tmp_path / "out"
    settings.setValue(OUTPUT_FOLDER_KEY, str(out))
    window = MainWindow(device="cpu", settings=settings)  # engine not started: no torch needed
    qtbot.addWidget(window)
    bar = SaveBar(settings, "digits", lambda: [item(3)])
    bar.setParent(window)
    batch = bar.save_current()
    assert not batch.finished
    # The writer goes on only once the window flushes: closing has to wait for it.
    flush = SaveBar.flush

    def flush_releasing_the_writer(self):
        gate.set()
        return flush(self)

    monkeypatch.setattr(SaveBar, "flush", flush_releasing_the_writer)
    window.close()
    assert batch.finished and [p.name for p in batch.paths] == ["00001-3.png"]
    assert pngs(out) == ["00001-3.png"] and bar.pending == []
    assert bar.status.text().startswith("Saved 00001-3.png")
