"""Benchmark of the 2D toy's training objectives: ε, x₀, v (with and without zero terminal SNR)
and flow matching, each trained the same number of steps and sampled; prints a markdown table.

Not part of the default test run (tests/engine/toy2d/test_objectives.py has the short checks):
    DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_toy2d_objectives.py \
        [--steps 6000] [--dataset swiss_roll]
The "NN ratio" is the mean nearest-neighbour distance of the samples to real points over the
same figure for fresh real points; the issue's bar is 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.reporting import Reporter  # noqa: E402
from engine.schedules.types import ScheduleSpec  # noqa: E402
from engine.toy2d.types import DatasetSpec, SampleRequest, TrainRequest  # noqa: E402

#: (objective, zero terminal SNR, samplers with their steps; None = the sampler's default)
RUNS = (
    ("eps", False, (("ddpm", None), ("ddim", None))),
    ("eps", True, (("ddim", None),)),
    ("x0", False, (("ddpm", None), ("ddim", None))),
    ("v", False, (("ddpm", None), ("ddim", None))),
    ("v", True, (("ddpm", None), ("ddim", None))),
    ("flow", False, (("euler", 20), ("euler", 50), ("heun", 10), ("heun", 25))),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--dataset", default="swiss_roll")
    parser.add_argument("--schedule", default="linear")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from engine.toy2d.sampling import run_sample_job
    from engine.toy2d.training import run_train_job

    print(f"{args.dataset}, {args.steps} training steps, {args.points} points, seed {args.seed}")
    print("| objective | schedule | train s | sampler (steps) | start t | MMD² | real vs real | "
          "NN dist | real NN | NN ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for objective, zero_snr, samplers in RUNS:
        schedule = ScheduleSpec.preset(args.schedule, 1000, zero_snr)
        started = time.perf_counter()
        state = run_train_job(TrainRequest(dataset=DatasetSpec(args.dataset), schedule=schedule,
                                           steps=args.steps, seed=args.seed,
                                           objective=objective), Reporter())
        seconds = time.perf_counter() - started
        label = "flow path" if objective == "flow" else schedule.label.split(" (")[0] + (
            " zero-SNR" if zero_snr else "")
        for sampler, steps in samplers:
            result = run_sample_job(SampleRequest(model=state.model, sampler=sampler,
                                                  num_points=args.points, seed=args.seed,
                                                  num_inference_steps=steps), Reporter())
            q = result.quality
            start = "1.0" if objective == "flow" else str(result.start_t)
            print(f"| {objective} | {label} | {seconds:.0f} | {sampler} "
                  f"({result.num_inference_steps}) | {start} | {q.mmd:.4f} | "
                  f"{q.mmd_real_reference:.4f} | {q.nn_distance:.3f} | "
                  f"{q.nn_distance_real_reference:.3f} | "
                  f"{q.nn_distance / q.nn_distance_real_reference:.2f} |", flush=True)


if __name__ == "__main__":
    main()
