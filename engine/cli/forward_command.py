"""``forward``: write x_t of one image at one timestep (the forward page's engine, no window)."""

from __future__ import annotations

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, seed
from engine.images import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE
from engine.schedules.types import SCHEDULE_NAMES


def register(subparsers) -> None:
    parser = add_command(subparsers, "forward", run,
                         "noise an image to timestep t: x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε")
    parser.add_argument("--image", required=True, metavar="FILE", help="any image Pillow reads")
    parser.add_argument("--t", type=int, required=True, metavar="T",
                        help="timestep, 0 … N-1 (t = 0 already has one step of noise)")
    parser.add_argument("--schedule", choices=list(SCHEDULE_NAMES), default="linear",
                        help="noise schedule with its default β range (default linear)")
    parser.add_argument("--timesteps", type=int, default=1000, metavar="N", help="T (default 1000)")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help=f"noise seed, {SEED_HELP} (default 0)")
    parser.add_argument("--size", type=int, default=DEFAULT_WORKING_SIZE, metavar="PX",
                        help=f"working size, longest side in px ({MIN_WORKING_SIZE}-"
                             f"{MAX_WORKING_SIZE}, default {DEFAULT_WORKING_SIZE})")
    parser.add_argument("--grayscale", action="store_true", help="convert the image to grey first")
    parser.add_argument("--out", required=True, metavar="FILE.png", help="output PNG")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file (default: refuse)")


def run(args) -> int:
    """Writes x_t as a PNG, mapped from [-1, 1] to 0-255 with clipping. ᾱ comes from diffusers'
    DDPMScheduler; ε is drawn with torch from --seed, the same noise the GUI's forward page
    shows for that seed.
    """
    from pathlib import Path

    from engine.cli.console import console_reporter, fail
    from engine.cli.outputs import OutputWriter, check_targets
    from engine.errors import UserFacingError
    from engine.forward.export import export_record, save_forward_png
    from engine.forward.frames import FrameRenderer
    from engine.forward.noising import run_forward_job
    from engine.forward.types import ForwardRequest
    from engine.images import load_image_file
    from engine.schedules.types import ScheduleSpec

    if not MIN_WORKING_SIZE <= args.size <= MAX_WORKING_SIZE:
        return fail(f"--size must be between {MIN_WORKING_SIZE} and {MAX_WORKING_SIZE}")
    try:
        spec = ScheduleSpec.preset(args.schedule, args.timesteps)
    except ValueError as exc:
        return fail(str(exc))
    if not 0 <= args.t < spec.num_train_timesteps:
        return fail(f"--t must be between 0 and {spec.num_train_timesteps - 1} (T = "
                    f"{spec.num_train_timesteps})")
    problem = check_targets([args.out], args.overwrite, "--out")
    if problem:
        return fail(problem)
    try:
        loaded = load_image_file(args.image, args.size, args.grayscale)
        result = run_forward_job(ForwardRequest(loaded.pixels, spec, args.seed),
                                 console_reporter(quiet=True))
        renderer = FrameRenderer(result.x0, result.noise, result.alphas_cumprod)
        signal, noise = renderer.coefficients(args.t)
        record = export_record(spec, args.seed, loaded.source, path=str(Path(args.image).resolve()),
                               working_size=args.size, grayscale=args.grayscale, t=args.t)
    except UserFacingError as exc:
        return fail(str(exc))
    writer = OutputWriter(overwrite=args.overwrite)
    pixels = renderer.pixels(args.t)
    written = writer.write(args.out, lambda path, overwrite: save_forward_png(
        path, pixels, record, overwrite=overwrite))
    code = writer.report()
    if code:
        return code
    height, width = loaded.pixels.shape[:2]
    print(f"wrote x_t at t={args.t} of {loaded.source} ({width}×{height}, {spec.label}, seed "
          f"{args.seed}) to {written}: √ᾱ_t = {signal:.4f}, √(1−ᾱ_t) = {noise:.4f}")
    return 0
