"""Every Stable Diffusion scheduler at the ends of the allowed step range, through the pipeline.

Run: ``python tests/benchmarks/bench_sd_step_range.py [--steps 1 2 149 150]``.
The tiny random-weight pipeline at 64 px (guidance 1, so one UNet call per step) through the
engine's ``run_generation``; each cell is the time of one run, or the error it raised. The
default test run checks the same schedulers at these step counts without the UNet
(tests/engine/stable_diffusion/test_sd_hostile_input.py), and the pipeline at 1 and 2 steps.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 149, 150])
    args = parser.parse_args()

    from engine.fixtures.tiny_sd import save_tiny_pipeline
    from engine.reporting import Reporter
    from engine.stable_diffusion.denoiser_types import scheduler_names_for
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.types import (
        SCHEDULER_NAMES,
        GenerationRequest,
        ModelSource,
        PipelineOptions,
    )

    folder, _ = save_tiny_pipeline(tempfile.mkdtemp())
    source, options = ModelSource(str(folder)), PipelineOptions(device="cpu")
    print(f"{'scheduler':<24}" + "".join(f"{n:>12}" for n in args.steps))
    failures = 0
    for name in scheduler_names_for("StableDiffusionPipeline", SCHEDULER_NAMES):  # not flow's
        cells = []
        for steps in args.steps:
            request = GenerationRequest("a photo of a cat", source=source, options=options,
                                        steps=steps, width=64, height=64, seed=0, scheduler=name,
                                        guidance_scale=1.0, preview_every=0, record_steps=False)
            started = time.perf_counter()
            try:
                result = run_generation(request, Reporter())
                cells.append(f"{time.perf_counter() - started:.1f} s"
                             + ("" if result.images[0].std() > 0 else " flat"))
            except Exception as exc:  # noqa: BLE001 (the table reports it)
                failures += 1
                cells.append(type(exc).__name__)
        print(f"{name:<24}" + "".join(f"{c:>12}" for c in cells))
    print(f"\n{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
