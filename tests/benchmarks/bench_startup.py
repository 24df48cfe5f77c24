"""Start-up and bundle size: launch → window shown (median of 5), from source and packaged.

    python tests/benchmarks/bench_startup.py [--runs 5] [--bundle dist/diffusion-playground]

Targets (issue 7): bundle ≤ 1 GB on Linux CPU, packaged window shown < 2.5 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def startup_seconds(command: list[str], runs: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as home:
        env = {"HOME": home, "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen",
               "DIFFUSION_PLAYGROUND_HOME": home, "PYTHONPATH": str(ROOT)}
        for _ in range(runs):
            out = subprocess.run(command + ["--startup-time"], env=env, cwd=home,
                                 capture_output=True, text=True, timeout=120)
            match = re.search(r"window shown ([\d.]+) s", out.stdout)
            if not match:
                raise SystemExit(f"no start-up time in output:\n{out.stdout}\n{out.stderr}")
            times.append(float(match.group(1)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bundle", default=str(ROOT / "dist" / "diffusion-playground"))
    args = parser.parse_args()
    rows = [("source (python main.py)", startup_seconds([sys.executable, str(ROOT / "main.py")],
                                                         args.runs), None)]
    bundle = Path(args.bundle)
    executable = bundle / "diffusion-playground"
    if executable.exists():
        rows.append(("packaged bundle", startup_seconds([str(executable)], args.runs),
                     folder_size(bundle)))
    print(f"{'what':<26} {'median s':>9} {'min s':>7} {'max s':>7} {'size':>9}")
    for name, times, size in rows:
        size_text = f"{size / 2**20:.0f} MiB" if size else "-"
        print(f"{name:<26} {statistics.median(times):>9.2f} {min(times):>7.2f} {max(times):>7.2f} "
              f"{size_text:>9}")
    print(f"({args.runs} runs each, {os.cpu_count()} cores, window shown = first event-loop turn "
          "after show())")


if __name__ == "__main__":
    main()
