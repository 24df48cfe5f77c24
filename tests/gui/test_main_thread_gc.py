"""Cyclic garbage holding Qt objects is collected on the GUI thread, never in the engine thread
(where a widget's destructor deadlocks against the GUI thread: see main_thread_gc.py)."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject


class _Witness:
    """Part of a reference cycle with a QObject; records the thread that frees it."""

    freed_in: list[str] = []

    def __init__(self):
        self.qobject = QObject()
        self.me = self  # the cycle: only the collector can free it

    def __del__(self):
        _Witness.freed_in.append(threading.current_thread().name)


def test_cycles_are_freed_on_the_gui_thread(qtbot, engine):
    assert not gc.isenabled()  # the engine client turned automatic collection off …
    _Witness.freed_in.clear()
    _Witness()

    def allocate_cycles():  # … so a thread allocating far past the threshold collects nothing
        for _ in range(20 * gc.get_threshold()[0]):
            cycle = []
            cycle.append(cycle)

    worker = threading.Thread(target=allocate_cycles, name="engine-like")
    worker.start()
    worker.join()
    assert _Witness.freed_in == []
    qtbot.waitUntil(lambda: _Witness.freed_in != [], timeout=5_000)  # the GUI thread's timer
    assert _Witness.freed_in == [threading.main_thread().name]
