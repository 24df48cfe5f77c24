"""``schedule``: write one noise schedule as CSV."""

from __future__ import annotations

from engine.cli import add_command
from engine.schedules.types import DEFAULT_BETAS, SCHEDULE_NAMES


def register(subparsers) -> None:
    parser = add_command(subparsers, "schedule", run,
                         "write a noise schedule (β, ᾱ, SNR per t) as CSV")
    parser.add_argument("--name", choices=list(SCHEDULE_NAMES), default="linear")
    parser.add_argument("--timesteps", type=int, default=1000, metavar="N", help="T (default 1000)")
    parser.add_argument("--beta-start", type=float, default=None, metavar="X",
                        help="default: 1e-4, or 0.00085 for scaled_linear")
    parser.add_argument("--beta-end", type=float, default=None, metavar="Y",
                        help="default: 0.02, or 0.012 for scaled_linear")
    parser.add_argument("--zero-snr", action="store_true",
                        help="rescale betas to zero terminal SNR (rescale_betas_zero_snr)")
    parser.add_argument("--csv", required=True, metavar="FILE", help="output CSV path")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing CSV (default: refuse)")


def run(args) -> int:
    """Columns: t,beta,alpha_bar,sqrt_alpha_bar,sqrt_one_minus_alpha_bar,log_snr; one row per t
    from 0 to T-1. Values come from diffusers' DDPMScheduler.
    """
    from engine.cli.console import fail
    from engine.cli.outputs import TABLE, OutputWriter, check_targets, write_produced_as
    from engine.schedules.csv_export import write_schedule_csv
    from engine.schedules.curves import compute_curves
    from engine.schedules.types import ScheduleSpec

    default_start, default_end = DEFAULT_BETAS[args.name]
    try:
        spec = ScheduleSpec(
            name=args.name,
            num_train_timesteps=args.timesteps,
            beta_start=args.beta_start if args.beta_start is not None else default_start,
            beta_end=args.beta_end if args.beta_end is not None else default_end,
            rescale_zero_snr=args.zero_snr,
        )
    except ValueError as exc:
        return fail(str(exc))
    problem = check_targets([args.csv], args.overwrite, "--csv", kind=TABLE)
    if problem:
        return fail(problem)
    curves = compute_curves(spec)
    writer = OutputWriter(overwrite=args.overwrite)
    written = writer.write(args.csv, lambda path, overwrite: write_produced_as(
        path, lambda temp: write_schedule_csv(temp, [curves]), overwrite))
    code = writer.report()
    if code:
        return code
    print(f"wrote {spec.num_train_timesteps} rows of {spec.label} to {written}")
    return 0
