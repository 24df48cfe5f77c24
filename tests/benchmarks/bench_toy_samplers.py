"""Every 2D toy sampler (issue 15 §3) on the trained MLP and on the exact model: the swiss roll
trained as ``toy2d`` trains (6000 steps by default), sampled with DDPM, DDIM, Euler, Heun,
DPM-Solver++ 2M, annealed Langevin and predictor–corrector from the same seed; is the mean
nearest-neighbour distance to real points within 2× the real-vs-real figure? The exact rows use
the Gaussian mixture's closed-form score (no training), the same samplers.

Not part of the default test run (tests/engine/toy2d/test_toy_samplers.py runs every sampler on
the exact mixture, briefly). Prints a markdown table and exits 1 if the issue's done-when row
(trained MLP, ``langevin``) or any exact row fails; the other trained rows are reported as they
come (a 6000-step MLP is a little past 2× with 50 ODE steps):
    DIFFUSION_PLAYGROUND_THREADS=1 python tests/benchmarks/bench_toy_samplers.py [--steps 6000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.reporting import Reporter  # noqa: E402
from engine.toy2d.types import (  # noqa: E402
    DEFAULT_LANGEVIN_STEP_SIZE,
    DEFAULT_LANGEVIN_STEPS,
    SAMPLERS,
    DatasetSpec,
    ExactModel,
    SampleRequest,
    TrainRequest,
)


def row(label: str, model, sampler: str, args) -> bool:
    from engine.toy2d.sampling import run_sample_job

    started = time.perf_counter()
    result = run_sample_job(SampleRequest(model=model, sampler=sampler, num_points=args.points,
                                          seed=args.seed, langevin_steps=args.langevin_steps,
                                          langevin_step_size=args.langevin_step_size),
                            Reporter())
    seconds = time.perf_counter() - started
    q = result.quality
    ratio = q.nn_distance / q.nn_distance_real_reference
    print(f"| {label} | {sampler} | {result.num_inference_steps} | {seconds:.1f} | "
          f"{q.nn_distance:.4f} | {q.nn_distance_real_reference:.4f} | {ratio:.2f} | "
          f"{q.mmd:.4f} | {q.mmd_real_reference:.4f} | {'yes' if ratio <= 2 else '**no**'} |",
          flush=True)
    return ratio <= 2


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6000, help="training steps")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--langevin-steps", type=int, default=DEFAULT_LANGEVIN_STEPS)
    parser.add_argument("--langevin-step-size", type=float, default=DEFAULT_LANGEVIN_STEP_SIZE)
    parser.add_argument("--samplers", nargs="*", default=list(SAMPLERS))
    args = parser.parse_args()

    from engine.toy2d.training import run_train_job

    started = time.perf_counter()
    model = run_train_job(TrainRequest(dataset=DatasetSpec("swiss_roll"), steps=args.steps,
                                       seed=args.seed), Reporter()).model
    print(f"swiss roll, linear T = 1000, {args.steps} training steps in "
          f"{time.perf_counter() - started:.0f} s; {args.points} points; Langevin K = "
          f"{args.langevin_steps}, δ = {args.langevin_step_size:g}\n")
    print("| model | sampler | steps | s | NN dist | real NN | ratio | MMD² | real MMD² | "
          "within 2× |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    failures = 0
    for sampler in args.samplers:
        failures += not row("trained MLP", model, sampler, args) and sampler == "langevin"
    exact = ExactModel(dataset=DatasetSpec("gaussian_mixture"))
    for sampler in args.samplers:
        failures += not row("exact (Gaussian mixture)", exact, sampler, args)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
