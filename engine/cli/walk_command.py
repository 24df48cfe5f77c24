"""``walk``: a latent walk between two seeds, one PNG per frame."""

from __future__ import annotations

import argparse

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, int_range, seed
from engine.digits.types import DEFAULT_GUIDANCE, MAX_WALK_FRAMES, SAMPLERS
from engine.samplers.names import argparse_type, digits_sampler

MAX_SCALE = 32


def seed_pair(text: str) -> tuple[int, int]:
    """Two seeds as ``A,B``."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r}: give two seeds as A,B (e.g. 1,2)")
    return seed(parts[0]), seed(parts[1])


def register(subparsers) -> None:
    parser = add_command(subparsers, "walk", run,
                         "a latent walk between two seeds (slerp of the noises), one PNG per frame")
    parser.add_argument("--model", choices=["digits"], default="digits")
    parser.add_argument("--label", type=int, default=None, metavar="D",
                        help="digit 0-9 (default: unconditional)")
    parser.add_argument("--seeds", type=seed_pair, required=True, metavar="A,B",
                        help=f"the two seeds the walk goes between, each {SEED_HELP}")
    parser.add_argument("--frames", type=int_range(2, MAX_WALK_FRAMES), default=8, metavar="N",
                        help=f"number of frames, 2-{MAX_WALK_FRAMES}, both seeds included "
                             "(default 8)")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE, metavar="G",
                        help=f"classifier-free guidance scale (default {DEFAULT_GUIDANCE:g})")
    parser.add_argument("--sampler", type=argparse_type(digits_sampler), default="ddim",
                        metavar="NAME", help="one of: " + ", ".join(SAMPLERS) + " (a "
                        "deterministic one, e.g. ddim with η 0, makes both ends exact)")
    parser.add_argument("--steps", type=int, default=50, metavar="N")
    parser.add_argument("--eta", type=float, default=0.0, metavar="E",
                        help="DDIM η: 0 deterministic, 1 as noisy as DDPM")
    parser.add_argument("--scale", type=int_range(1, MAX_SCALE), default=4, metavar="F",
                        help=f"upscale each 16×16 frame by F, 1-{MAX_SCALE} (default 4)")
    parser.add_argument("--model-dir", default=None, metavar="DIR",
                        help="a folder written by `train digits` (default: the shipped model)")
    parser.add_argument("--out-dir", required=True, metavar="DIR",
                        help="write DIR/0000.png … one per frame")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (default: refuse before sampling)")


def run(args) -> int:
    """Frame i of N starts from the slerp of the two seeds' initial noises at i/(N−1) and is
    sampled alone with the same settings, so the first and last frames are exactly the images
    `sample --seed A` and `--seed B` make with --n 1. Each PNG carries its settings: the first
    seed with the second as AUTOMATIC1111 'Variation seed' and the fraction as its strength,
    which regenerates that frame. With a stochastic sampler every frame uses the first seed's
    per-step noise. Frames are written as they finish; Ctrl+C keeps those.
    """
    import sys

    from engine.cli.console import console_reporter, fail
    from engine.cli.interrupt import cancelled
    from engine.cli.outputs import OutputWriter, check_targets, folder_paths
    from engine.digits.outputs import save_digits_png
    from engine.digits.types import WalkRequest
    from engine.digits.walk import run_walk
    from engine.errors import Cancelled, UserFacingError

    if args.label is not None and not 0 <= args.label <= 9:
        return fail("--label must be a digit from 0 to 9")
    try:
        request = WalkRequest(label=args.label, seeds=args.seeds, frames=args.frames,
                              guidance=args.guidance, sampler=args.sampler, steps=args.steps,
                              eta=args.eta, model_dir=args.model_dir)
    except ValueError as exc:
        return fail(str(exc))
    if not args.out_dir.strip():
        return fail("--out-dir needs a folder name (it was empty)")
    paths = folder_paths(args.out_dir, args.frames)
    problem = check_targets(paths, args.overwrite, "--out-dir")
    if problem:
        return fail(problem)
    first, second = args.seeds
    if request.stochastic:
        print(f"note: {args.sampler}{' with η > 0' if args.sampler == 'ddim' else ''} draws "
              f"fresh noise at every step; every frame uses seed {first}'s per-step noise, so "
              f"only the first frame is the single image of its seed (the last is not seed "
              f"{second}'s)", file=sys.stderr)
    writer = OutputWriter(overwrite=args.overwrite)
    last = len(paths) - 1

    def write(frame) -> None:
        more = {"Walk frame": f"{frame.index}/{last}"}
        writer.write(paths[frame.index], lambda target, overwrite: save_digits_png(
            target, frame.image, frame.request, scale=args.scale, overwrite=overwrite,
            more=more))

    reporter = console_reporter()
    reporter._on_partial = write
    try:
        result = run_walk(request, reporter)
    except Cancelled:
        writer.report()
        done = len(writer.written) + len(writer.diverted)
        return cancelled(f"wrote {done} of {len(paths)} frames; the unfinished one was not written")
    except UserFacingError as exc:
        return fail(str(exc))
    code = writer.report()
    if writer.complete:
        print(f"wrote {len(result.frames)} frames from seed {first} to seed {second} to "
              f"{args.out_dir} ({result.wall_seconds:.1f} s)")
    return code
