"""The first look: command → Noise schedules curves drawn, with PyTorch's import stalled.

    python tests/benchmarks/bench_first_look.py [--runs 7] [--display :41]

Starts the app (``python main.py``) in a subprocess with a stand-in ``torch`` package first on
PYTHONPATH whose import sleeps 30 s, so nothing the first screen shows can come from torch or
diffusers. The app prints a line when every schedules plot first has data
(``DIFFUSION_PLAYGROUND_FIRST_LOOK_TIME=1``, playground_gui/app.py); the figure is the wall
time from starting the command to that line (median of the runs), next to the app's own
process-age figure. Goal (issue 13): < 1.5 s on these machines. Outside CI.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_S = 1.5
STALL_S = 30
LINE = re.compile(r"schedule curves drawn ([\d.]+) s after process start \((.+)\)")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def one_run(env: dict, home: str, timeout: float) -> tuple[float, float, str]:
    """(wall seconds from the command, the app's process-age seconds, whose curves)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py")], env=env, cwd=home,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    kill = threading.Timer(timeout, kill_group, (process.pid,))  # a silent hang ends too
    kill.start()
    try:
        output = []
        for line in process.stdout:  # the app flushes its line; torch is still "loading"
            output.append(line)
            match = LINE.search(line)
            if match:
                return time.perf_counter() - started, float(match.group(1)), match.group(2)
        raise SystemExit("no 'schedule curves drawn' line:\n" + "".join(output))
    finally:
        kill.cancel()
        kill_group(process.pid)  # the engine thread is still in torch's import
        process.wait()


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--display", default=None,
                        help="an X display (e.g. Xvfb's :41) instead of Qt's offscreen platform")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as stand_in, tempfile.TemporaryDirectory() as home:
        package = Path(stand_in) / "torch"
        package.mkdir()
        (package / "__init__.py").write_text(
            f"import time\ntime.sleep({STALL_S})  # a stalled import: the bench's stand-in torch\n"
            "raise ImportError('stand-in torch (tests/benchmarks/bench_first_look.py)')\n")
        env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "DIFFUSION_PLAYGROUND_HOME": home, "DIFFUSION_PLAYGROUND_OUTPUT_DIR": home,
               "PYTHONPATH": os.pathsep.join([stand_in, str(ROOT)]),
               "DIFFUSION_PLAYGROUND_FIRST_LOOK_TIME": "1"}
        threads = os.environ.get("DIFFUSION_PLAYGROUND_THREADS")
        if threads:
            env["DIFFUSION_PLAYGROUND_THREADS"] = threads
        if args.display:
            env.update(DISPLAY=args.display, QT_QPA_PLATFORM="xcb")
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        load_before = os.getloadavg()
        runs = [one_run(env, home, timeout=STALL_S - 5) for _ in range(args.runs)]
        load_after = os.getloadavg()

    walls = [wall for wall, _, _ in runs]
    ages = [age for _, age, _ in runs]
    sources = sorted({source for _, _, source in runs})
    median = statistics.median(walls)
    print("First look: command → schedule curves drawn, torch's import stalled "
          f"{STALL_S} s (stand-in)")
    print(f"{'machine':<28} {cpu_model()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print(f"{'threads':<28} DIFFUSION_PLAYGROUND_THREADS={threads or 'unset (app default)'}")
    print(f"{'conditions':<28} Qt platform {'xcb on ' + args.display if args.display else 'offscreen'}"
          f"; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{args.runs} runs, sequential")
    print(f"{'curves came from':<28} {', '.join(sources)}")
    print(f"{'command → drawn (wall)':<28} median {median:.2f} s, min {min(walls):.2f}, "
          f"max {max(walls):.2f}  [{' '.join(f'{w:.2f}' for w in walls)}]")
    print(f"{'process start → drawn (app)':<28} median {statistics.median(ages):.2f} s, "
          f"min {min(ages):.2f}, max {max(ages):.2f}")
    verdict = "met" if median < GOAL_S else "NOT met"
    print(f"{'goal < ' + str(GOAL_S) + ' s':<28} {verdict} (median {median:.2f} s)")


if __name__ == "__main__":
    main()
