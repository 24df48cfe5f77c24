"""``sample``: images from the embedded digits model, as a grid or one PNG per sample."""

from __future__ import annotations

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, int_range, seed
from engine.digits.types import DEFAULT_GUIDANCE, SAMPLERS
from engine.samplers.names import argparse_type, digits_sampler

MAX_SCALE = 32
MAX_GRID_SIDE = 8192


def register(subparsers) -> None:
    parser = add_command(subparsers, "sample", run,
                         "generate digits with the embedded model (grid or one PNG each)")
    parser.add_argument("--model", choices=["digits"], default="digits")
    parser.add_argument("--label", type=int, default=None, metavar="D",
                        help="digit 0-9 (default: unconditional)")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE, metavar="G",
                        help=f"classifier-free guidance scale (default {DEFAULT_GUIDANCE:g}; "
                             "1 = plain conditional, 0 = unconditional)")
    parser.add_argument("--guidance-cutoff", type=float, default=1.0, metavar="F",
                        help="guidance only for the first fraction F (0-1) of the steps, then "
                             "the conditional prediction alone (default 1 = every step)")
    parser.add_argument("--guidance-rescale", type=float, default=0.0, metavar="PHI",
                        help="guidance rescale φ, 0-1 (Lin et al. 2023; default 0 = off)")
    parser.add_argument("--sampler", type=argparse_type(digits_sampler), default="ddim",
                        metavar="NAME", help="one of: " + ", ".join(SAMPLERS) + " (any case; "
                        "AUTOMATIC1111's names work too: 'Euler a', 'DPM++ 2M', 'PLMS')")
    parser.add_argument("--steps", type=int, default=50, metavar="N")
    parser.add_argument("--eta", type=float, default=0.0, metavar="E",
                        help="DDIM η: 0 deterministic, 1 as noisy as DDPM")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help=f"seed, {SEED_HELP}")
    parser.add_argument("--variation-seed", type=seed, default=None, metavar="S",
                        help="AUTOMATIC1111's variation seed: x_T moves by slerp from the "
                             "seed's noise towards this seed's noise (give --variation-strength)")
    parser.add_argument("--variation-strength", type=float, default=None, metavar="X",
                        help="0-1: 0 the plain image, 1 the variation seed's noise")
    parser.add_argument("--n", type=int, default=16, metavar="K", help="number of samples")
    parser.add_argument("--scale", type=int_range(1, MAX_SCALE), default=4, metavar="F",
                        help=f"upscale each 16×16 sample by F, 1-{MAX_SCALE} (nearest neighbour; "
                             f"default 4); a grid may be at most {MAX_GRID_SIDE} px on a side")
    parser.add_argument("--model-dir", default=None, metavar="DIR",
                        help="a folder written by `train digits` (default: the shipped model)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="FILE.png", help="write one grid image")
    target.add_argument("--out-dir", metavar="DIR",
                        help="write DIR/0000.png, DIR/0001.png, … (one per sample)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (default: refuse before sampling)")


def grid_side(count: int, scale: int, tile: int = 16) -> int:
    """The longest side in px of the grid of ``count`` samples (engine.digits.outputs.grid)."""
    import math

    columns = max(1, math.ceil(math.sqrt(count)))
    return (columns * (tile + 1) - 1) * scale


def run(args) -> int:
    """Runs the reverse process of the embedded digits model. Each PNG carries its settings
    (AUTOMATIC1111-style 'parameters' text plus the full request as JSON; see `info`). Existing
    files are refused before sampling unless --overwrite.
    """
    from engine.cli.console import console_reporter, fail
    from engine.cli.outputs import OutputWriter, check_targets, folder_paths
    from engine.digits.outputs import grid, save_digits_png
    from engine.digits.sampling import run_reverse
    from engine.digits.types import ReverseRequest
    from engine.errors import UserFacingError

    if args.label is not None and not 0 <= args.label <= 9:
        return fail("--label must be a digit from 0 to 9")
    if (args.variation_seed is None) != (args.variation_strength is None):
        return fail("--variation-seed and --variation-strength go together; give both")
    try:
        request = ReverseRequest(label=args.label, guidance=args.guidance, sampler=args.sampler,
                                 steps=args.steps, eta=args.eta, seed=args.seed,
                                 batch_size=args.n, model_dir=args.model_dir, record=False,
                                 variation_seed=args.variation_seed,
                                 variation_strength=args.variation_strength or 0.0,
                                 guidance_cutoff=args.guidance_cutoff,
                                 guidance_rescale=args.guidance_rescale)
    except ValueError as exc:
        return fail(str(exc))
    if args.out is not None and grid_side(args.n, args.scale) > MAX_GRID_SIDE:
        return fail(f"a grid of {args.n} samples at --scale {args.scale} would be "
                    f"{grid_side(args.n, args.scale)} px on a side (at most {MAX_GRID_SIDE}); "
                    "use a smaller --scale or --out-dir")
    # Every target is checked before sampling, so a taken name does not cost the whole run.
    if args.out is not None:
        paths, option = [args.out], "--out"
    else:
        if not args.out_dir.strip():
            return fail("--out-dir needs a folder name (it was empty)")
        paths, option = folder_paths(args.out_dir, args.n), "--out-dir"
    problem = check_targets(paths, args.overwrite, option)
    if problem:
        return fail(problem)
    try:
        result = run_reverse(request, console_reporter())
    except UserFacingError as exc:
        return fail(str(exc))
    images = result.final_images
    writer = OutputWriter(overwrite=args.overwrite)
    if args.out is not None:
        picture = grid(images)
        writer.write(args.out, lambda path, overwrite: save_digits_png(
            path, picture, request, scale=args.scale, overwrite=overwrite))
    else:
        for index, (path, image) in enumerate(zip(paths, images, strict=True)):
            writer.write(path, lambda target, overwrite, image=image, index=index: save_digits_png(
                target, image, request, scale=args.scale, batch_index=index,
                overwrite=overwrite))
    code = writer.report()
    if writer.complete:
        where = args.out if args.out is not None else args.out_dir
        what = "as a grid to" if args.out is not None else "as one PNG each to"
        print(f"wrote {len(images)} samples {what} {where} ({result.wall_seconds:.1f} s)")
    return code
