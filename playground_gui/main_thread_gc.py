"""Python's cyclic garbage collector runs on the GUI thread only, on a timer.

Automatic collection runs in whichever thread happens to allocate when a threshold is crossed.
When that is the engine thread and the garbage holds a Qt widget (an old dialog or menu in a
reference cycle), the widget's C++ destructor runs there: it takes Qt's object lock and then
waits for the GIL, while the GUI thread holds the GIL and waits for that lock. Both threads
sleep forever (seen in the test suite: a LoRA load in the engine thread collected an old
window's menus). pyqtgraph's ``GarbageCollector`` turns automatic collection off and collects
generation by generation from a QTimer in the GUI thread instead.
"""

from __future__ import annotations

_collector = None


def collect_garbage_on_gui_thread(interval_s: float = 1.0) -> None:
    """Install the timer-driven collector once per process (call from the GUI thread)."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=interval_s)
