"""Every noise schedule of the schedules tab, with and without zero terminal SNR, trained on the
swiss roll and sampled with DDPM and DDIM: is the mean nearest-neighbour distance of the samples
to real points within 2× the real-vs-real figure? (Issue 11, section 1.)

Not part of the default test run (tests/engine/toy2d/test_toy2d_schedules.py checks sigmoid + zero SNR
there, with a shorter training). Prints a markdown table and exits 1 if any row fails:
    DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_toy2d_schedules.py [--steps 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.reporting import Reporter  # noqa: E402
from engine.schedules.types import SCHEDULE_NAMES, ScheduleSpec  # noqa: E402
from engine.toy2d.types import DatasetSpec, TrainRequest  # noqa: E402
from tests.benchmarks.bench_toy2d import timed_sample  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000, help="training steps (app default)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--timesteps", type=int, default=1000)
    parser.add_argument("--schedules", nargs="*", default=list(SCHEDULE_NAMES))
    args = parser.parse_args()

    from engine.toy2d.training import run_train_job

    print(f"swiss roll, T = {args.timesteps}, {args.steps} training steps (batch "
          f"{args.batch_size}, lr {args.learning_rate:g}), {args.points} points\n")
    print("| schedule | zero SNR | train s | sampler (steps, first t) | sample s | NN dist | "
          "real NN | ratio | MMD² | real MMD² | within 2× |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    failures = 0
    for name in args.schedules:
        for zero_snr in (False, True):
            spec = ScheduleSpec.preset(name, args.timesteps, zero_snr)
            started = time.perf_counter()
            state = run_train_job(TrainRequest(dataset=DatasetSpec("swiss_roll"), schedule=spec,
                                               steps=args.steps, learning_rate=args.learning_rate,
                                               batch_size=args.batch_size), Reporter())
            train_seconds = time.perf_counter() - started
            for sampler in ("ddpm", "ddim"):
                result, seconds = timed_sample(state.model, sampler, args.points)
                q = result.quality
                ratio = q.nn_distance / q.nn_distance_real_reference
                ok = ratio <= 2.0
                failures += not ok
                print(f"| {name} | {'yes' if zero_snr else 'no'} | {train_seconds:.0f} | "
                      f"{sampler} ({result.num_inference_steps}, {result.start_t}) | "
                      f"{seconds:.1f} | {q.nn_distance:.3f} | {q.nn_distance_real_reference:.3f} | "
                      f"{ratio:.2f} | {q.mmd:.4f} | {q.mmd_real_reference:.4f} | "
                      f"{'yes' if ok else '**no**'} |", flush=True)
    print(f"\n{failures} of {2 * 2 * len(args.schedules)} rows fail." if failures else
          "\nEvery row is within 2×.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
