"""Benchmark of the 2D toy model: training speed and sample quality per data set.

Not part of the default test run. Prints a markdown table:
    DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_toy2d.py [--steps 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.reporting import Reporter  # noqa: E402
from engine.toy2d.types import DatasetSpec, SampleRequest, TrainRequest  # noqa: E402


def timed_sample(model, sampler: str, points: int):
    """One sampling run of ``model``: (SampleResult, seconds)."""
    from engine.toy2d.sampling import run_sample_job

    started = time.perf_counter()
    result = run_sample_job(SampleRequest(model=model, sampler=sampler, num_points=points),
                            Reporter())
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--datasets", nargs="*", default=["swiss_roll", "two_moons"])
    parser.add_argument("--points", type=int, default=1000)
    args = parser.parse_args()

    from engine.toy2d.training import run_train_job

    print("| data set | steps | steps/s | sampler | sampling s | MMD² | real vs real | "
          "NN dist | real NN |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        started = time.perf_counter()
        state = run_train_job(TrainRequest(dataset=DatasetSpec(name), steps=args.steps), Reporter())
        rate = args.steps / (time.perf_counter() - started)
        for sampler in ("ddpm", "ddim"):
            result, seconds = timed_sample(state.model, sampler, args.points)
            q = result.quality
            print(f"| {name} | {args.steps} | {rate:.0f} | {sampler} "
                  f"({result.num_inference_steps}) | {seconds:.1f} | {q.mmd:.4f} | "
                  f"{q.mmd_real_reference:.4f} | {q.nn_distance:.3f} | "
                  f"{q.nn_distance_real_reference:.3f} |", flush=True)


if __name__ == "__main__":
    main()
