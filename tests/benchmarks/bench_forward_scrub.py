"""Scrubbing the forward process: slider value change → the whole frame painted, in the real page.

Run:  QT_QPA_PLATFORM=offscreen DIFFUSION_PLAYGROUND_THREADS=1 \
      python tests/benchmarks/bench_forward_scrub.py [--moves 500] [--size 512]

A 512×512 RGB sample, the real main window and engine, the window made large enough that the
frame view renders x_t at the image's full 512×512 (the header says the size it rendered at).
Each move sets the slider to a random t and then lets the event loop paint every widget that
changed (``processEvents()``), timed together. Rows:
  whole frame   setValue (x_t rendered, readouts set) + the histogram recomputed, then x_t,
                readout, slider, t box and histogram painted: on every move, as when the
                histogram's 30 Hz throttle lets it through (the worst frame);
  no histogram  the same with the histogram left as it was (x_t, readout, slider, t box);
  event loop    as in the running app: moves 4 ms apart, the histogram only when its throttle
                lets it through;
  markov whole  "whole frame" with the Markov chain's view, caption and histogram shown too.
Under the table, the paints per move that happened inside the timed part, for each part (1.00:
painted on every move, so none was left out). Target (issue 3; judged on the whole frame since
issue 12): p95 of "whole frame" under 16 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DIFFUSION_PLAYGROUND_THREADS", "1")
os.environ.setdefault("DIFFUSION_PLAYGROUND_HOME", tempfile.mkdtemp(prefix="dp-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def wait_until(app, condition, timeout=300.0):
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the engine did not answer in time")
        app.processEvents()
        time.sleep(0.01)


class PaintCounter(QObject):
    """Counts paint events per watched widget while ``counting``."""

    def __init__(self, widgets: dict):
        super().__init__()
        self.counting = False
        self.names = {widget: name for name, widget in widgets.items()}
        self.counts = dict.fromkeys(widgets, 0)
        for widget in widgets.values():
            widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if self.counting and event.type() == QEvent.Type.Paint and watched in self.names:
            self.counts[self.names[watched]] += 1
        return False

    def per_move(self, moves: int) -> str:
        counts, self.counts = self.counts, dict.fromkeys(self.counts, 0)
        return ", ".join(f"{name} {count / moves:.2f}" for name, count in counts.items())


def rendered(page) -> tuple[int, int]:
    return page.session.renderer.display_size


def fit_window(app, window, page, full: tuple[int, int]) -> None:
    """Grow the window until the frame view renders the image at its full size."""
    for _ in range(20):
        if rendered(page) == full:
            return
        window.resize(int(window.width() * 1.1), int(window.height() * 1.1))
        app.processEvents()


def random_moves(page, moves: int, rng):
    last = page.slider.maximum()
    for _ in range(moves):
        t = int(rng.integers(0, last + 1))
        while t == page.slider.value():
            t = int(rng.integers(0, last + 1))
        yield t


def measure(app, page, counter, moves: int, rng, histogram: bool | None):
    """(wall ms, GUI-thread CPU ms) per move: setValue, the histogram recomputed (True), left
    as it was (False) or throttled as in the app (None), and the paints of the event loop.
    CPU time shows the work itself; wall time adds waiting for a core, which on a shared
    2-core machine can be most of it."""
    times, cpu = np.empty(moves), np.empty(moves)
    for index, t in enumerate(random_moves(page, moves, rng)):
        started, cpu_started = time.perf_counter(), time.thread_time()
        page.slider.setValue(t)
        if histogram:
            page.refresh_histogram()  # what the throttle's timer does, here on every move
        if histogram is not None:
            page._histogram_timer.stop()  # done above, or left out of this row
        counter.counting = True
        app.processEvents()  # every dirty widget painted, as the running app does
        counter.counting = False
        times[index] = time.perf_counter() - started
        cpu[index] = time.thread_time() - cpu_started
        if histogram is None:
            time.sleep(0.004)  # moves arrive from a person, not back to back
        else:
            app.processEvents()  # anything still queued runs outside the timed part
    return times * 1000.0, cpu * 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=500)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()

    load_before = f"{os.getloadavg()[0]:.2f}"
    app = QApplication.instance() or QApplication([])
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    from playground_gui.main_window import MainWindow
    from playground_gui.tabs.forward.view import ForwardPage

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(device="cpu", settings=settings)
    window.resize(1500, 950)
    window.show()
    window.start_engine()
    tab = next(window.tabs.widget(i) for i in range(window.tabs.count())
               if window.tabs.tabText(i) == "Forward / reverse")
    window.tabs.setCurrentWidget(tab)
    page = next(tab.pages.widget(i) for i in range(tab.pages.count())
                if isinstance(tab.pages.widget(i), ForwardPage))
    session = page.session
    page.size_spin.setValue(args.size)
    wait_until(app, lambda: session.renderer is not None
               and session.loaded.pixels.shape[1] == args.size and session.idle)
    height, width, channels = session.loaded.pixels.shape
    fit_window(app, window, page, (width, height))
    rng = np.random.default_rng(0)
    counter = PaintCounter({"x_t": page.frame_view, "readout": page.readout,
                            "slider": page.slider, "t box": page.t_spin,
                            "histogram": page.histogram.viewport(),
                            "chain": page.markov_view, "chain caption": page.markov_caption})
    measure(app, page, counter, 20, rng, True)  # warm-up
    counter.per_move(1)

    def shown() -> str:
        return (f"view {page.frame_view.width()}x{page.frame_view.height()} px, "
                f"x_t rendered at {'x'.join(map(str, rendered(page)))}")

    sizes = [f"window {window.width()}x{window.height()}, {shown()}"]
    rows, paints = [], []
    for name, histogram in (("whole frame", True), ("no histogram", False),
                            ("event loop", None)):
        rows.append((name, measure(app, page, counter, args.moves, rng, histogram)))
        paints.append(f"{name}: {counter.per_move(args.moves)}")
    page.markov_check.setChecked(True)
    wait_until(app, lambda: session.markov is not None)
    fit_window(app, window, page, (width, height))
    sizes.append(f"with the Markov chain: window {window.width()}x{window.height()}, {shown()}")
    counter.per_move(1)
    rows.append(("markov whole", measure(app, page, counter, args.moves, rng, True)))
    paints.append(f"markov whole: {counter.per_move(args.moves)}")
    full = rendered(page) == (width, height)
    window.close()

    print(f"forward scrub, {width}x{height}x{channels}, T = {session.renderer.num_timesteps}, "
          f"{args.moves} random moves each, {os.cpu_count()} cores")
    for line in sizes:
        print(line)
    print(f"load average before: {load_before}, after: {os.getloadavg()[0]:.2f}")
    print(f"{'what is painted':<16}{'median ms':>10}{'p95 ms':>10}{'max ms':>10}"
          f"{'CPU median':>12}{'CPU p95':>10}")
    for name, (times, cpu) in rows:
        print(f"{name:<16}{np.median(times):>10.2f}{np.percentile(times, 95):>10.2f}"
              f"{times.max():>10.2f}{np.median(cpu):>12.2f}{np.percentile(cpu, 95):>10.2f}")
    print("paints per move inside the timed part:")
    for line in paints:
        print("  " + line)
    p95 = np.percentile(rows[0][1][0], 95)
    where = f"at {width}x{height}" if full else "NOT at the full image size (see above)"
    print(f"target p95 < 16 ms for the whole frame, rendered {where}: "
          f"{'met' if p95 < 16 else 'NOT met'} ({p95:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
