"""``sampler-lab``: endpoint error of ODE samplers against their step count, with an exact model."""

from __future__ import annotations

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, int_range, seed
from engine.samplers.names import any_case
from engine.schedules.types import SCHEDULE_NAMES
from engine.toy2d.types import DATASET_NAMES, LAB_SAMPLERS


def _list_of(parse, what: str):
    """An argparse type for a comma-separated list, each item parsed by ``parse``."""
    import argparse

    def convert(text: str) -> tuple:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"give a comma-separated list of {what}")
        try:
            return tuple(parse(item) for item in items)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = what
    return convert


def register(subparsers) -> None:
    parser = add_command(subparsers, "sampler-lab", run,
                         "ODE samplers' endpoint error against step count with an exact model "
                         "(CSV + fitted orders)")
    parser.add_argument("--dataset", default="gaussian_mixture",
                        choices=[name for name in DATASET_NAMES if name != "custom"],
                        help="gaussian_mixture has an exact score; the others use the ideal "
                             "denoiser of --training-points points (default gaussian_mixture)")
    parser.add_argument("--samplers", type=_list_of(any_case(LAB_SAMPLERS), "samplers"),
                        default=tuple(LAB_SAMPLERS), metavar="A,B,…",
                        help="any of " + ", ".join(LAB_SAMPLERS) + " (default all)")
    parser.add_argument("--steps", type=_list_of(int_range(1, 10_000), "step counts"),
                        default=(8, 16, 32, 64), metavar="N,M,…",
                        help="step counts, at least two (default 8,16,32,64)")
    parser.add_argument("--points", type=int_range(1000, 100_000), default=1000, metavar="K",
                        help="points from the same noise, 1000 … 100000 (default 1000)")
    parser.add_argument("--reference-steps", type=int_range(2, 100_000), default=512,
                        metavar="R", help="RK4 steps of the reference solution (default 512)")
    parser.add_argument("--training-points", type=int_range(1, 10_000), default=1000,
                        metavar="P", help="points of the ideal denoiser for data sets without "
                                          "an exact density (default 1000)")
    parser.add_argument("--schedule", choices=list(SCHEDULE_NAMES), default="linear",
                        help="noise schedule with T=1000 whose σ_max and σ_min bound the runs "
                             "(default linear)")
    parser.add_argument("--zero-snr", action="store_true",
                        help="rescale the schedule to zero terminal SNR (σ_max is then taken at "
                             "t = T−2, the last finite σ)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help=f"seed of the noise (and of the training points), {SEED_HELP}")
    parser.add_argument("--csv", required=True, metavar="FILE",
                        help="output CSV: sampler,steps,error")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing CSV (default: refuse before the run)")


def write_lab_csv(path, rows) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sampler", "steps", "error"])
        writer.writerows((name, steps, repr(float(error))) for name, steps, error in rows)


def run(args) -> int:
    """Runs each sampler from the same noise with N steps of the probability-flow ODE (Karras σ
    spacing, ρ = 7, from the schedule's σ_max to σ_min, compared at σ_min without the final jump
    to σ = 0) with the exact model, measures the mean Euclidean distance of its endpoints to an
    RK4 reference solution from the same noise, writes sampler,steps,error rows and prints the
    fitted order p of error ∝ N⁻ᵖ per sampler (≈ 1 for DDIM, ≈ 2 for Heun and DPM-Solver++ 2M).
    """
    import sys

    from engine.cli.console import console_reporter, fail
    from engine.cli.outputs import TABLE, OutputWriter, check_targets, write_produced_as
    from engine.schedules.types import ScheduleSpec
    from engine.toy2d.types import DatasetSpec, SamplerLabRequest

    try:
        request = SamplerLabRequest(
            dataset=DatasetSpec(args.dataset),
            schedule=ScheduleSpec.preset(args.schedule, 1000, args.zero_snr),
            samplers=tuple(dict.fromkeys(args.samplers)), steps=tuple(args.steps),
            num_points=args.points, reference_steps=args.reference_steps,
            training_points=args.training_points, seed=args.seed)
    except ValueError as exc:
        return fail(str(exc))
    problem = check_targets([args.csv], args.overwrite, "--csv", kind=TABLE)
    if problem:
        return fail(problem)

    from engine.toy2d.sampler_lab import run_sampler_lab_job

    result = run_sampler_lab_job(request, console_reporter())
    writer = OutputWriter(overwrite=args.overwrite)
    written = writer.write(args.csv, lambda path, overwrite: write_produced_as(
        path, lambda temp: write_lab_csv(temp, result.rows), overwrite))
    code = writer.report()
    if code:
        return code
    print(f"model: {result.model}; schedule {request.schedule.label}, Karras σ (ρ = 7) from "
          f"{result.sigma_max:.4g} to {result.sigma_min:.4g}; {request.num_points} points; "
          f"reference RK4 {request.reference_steps} steps (changes by "
          f"{result.reference_change:.2g} with half as many)")
    from engine.toy2d.sampler_lab import fitted_order

    counts = sorted(set(request.steps))
    print(f"{'sampler':<10}" + "".join(f"{f'N={n}':>11}" for n in counts)
          + f"{'order p':>10}{'p, last two N':>15}")
    for name in request.samplers:
        errors = [error for sampler, _, error in result.rows if sampler == name]
        local = fitted_order(counts[-2:], errors[-2:])
        print(f"{name:<10}" + "".join(f"{error:>11.3e}" for error in errors)
              + f"{result.orders[name]:>10.2f}{local:>15.2f}")
    print("order p: least-squares fit of log error on log N over all N (error ∝ N⁻ᵖ); the "
          "smallest N are often not yet asymptotic, the last column fits the two largest N only")
    smallest = min(error for _, _, error in result.rows)
    if result.reference_change > 0.01 * smallest:
        print(f"warning: the reference solution moves by {result.reference_change:.2g} with half "
              f"its steps, not far below the smallest error {smallest:.2g}: raise "
              "--reference-steps for orders you can trust", file=sys.stderr)
    print(f"wrote {len(result.rows)} rows to {written}")
    return 0
