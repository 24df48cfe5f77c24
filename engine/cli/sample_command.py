"""``sample``: images from the embedded digits model, as a grid or one PNG per sample."""

from __future__ import annotations

from engine.digits.types import DEFAULT_GUIDANCE, SAMPLERS
from engine.samplers.names import argparse_type, digits_sampler


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sample", help="generate digits with the embedded model (grid or one PNG each)",
        description="Runs the reverse process of the embedded digits model. Each PNG carries "
                    "its settings (AUTOMATIC1111-style 'parameters' text plus the full request "
                    "as JSON; see `info`). Existing files are never overwritten.")
    parser.add_argument("--model", choices=["digits"], default="digits")
    parser.add_argument("--label", type=int, default=None, metavar="D",
                        help="digit 0-9 (default: unconditional)")
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE, metavar="G",
                        help=f"classifier-free guidance scale (default {DEFAULT_GUIDANCE:g}; "
                             "1 = plain conditional, 0 = unconditional)")
    parser.add_argument("--sampler", type=argparse_type(digits_sampler), default="ddim",
                        metavar="NAME", help="one of: " + ", ".join(SAMPLERS) + " (any case; "
                        "AUTOMATIC1111's names work too: 'Euler a', 'DPM++ 2M', 'PLMS')")
    parser.add_argument("--steps", type=int, default=50, metavar="N")
    parser.add_argument("--eta", type=float, default=0.0, metavar="E",
                        help="DDIM η: 0 deterministic, 1 as noisy as DDPM")
    parser.add_argument("--seed", type=int, default=0, metavar="S")
    parser.add_argument("--n", type=int, default=16, metavar="K", help="number of samples")
    parser.add_argument("--scale", type=int, default=4, metavar="F",
                        help="upscale each 16×16 sample by F (nearest neighbour; default 4)")
    parser.add_argument("--model-dir", default=None, metavar="DIR",
                        help="a folder written by `train digits` (default: the shipped model)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="FILE.png", help="write one grid image")
    target.add_argument("--out-dir", metavar="DIR", help="write NNNN.png per sample")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from pathlib import Path

    from engine.cli.console import console_reporter, fail
    from engine.digits.outputs import grid, save_png
    from engine.digits.sampling import run_reverse
    from engine.digits.types import ReverseRequest
    from engine.errors import UserFacingError

    if args.label is not None and not 0 <= args.label <= 9:
        return fail("--label must be a digit from 0 to 9")
    try:
        request = ReverseRequest(label=args.label, guidance=args.guidance, sampler=args.sampler,
                                 steps=args.steps, eta=args.eta, seed=args.seed,
                                 batch_size=args.n, model_dir=args.model_dir, record=False)
    except ValueError as exc:
        return fail(str(exc))
    try:
        result = run_reverse(request, console_reporter())
    except UserFacingError as exc:
        return fail(str(exc))
    images = result.final_images
    try:
        if args.out:
            save_png(args.out, grid(images), request, scale=args.scale)
            print(f"wrote {len(images)} samples as a grid to {args.out} ({result.wall_seconds:.1f} s)")
        else:
            folder = Path(args.out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            for index, image in enumerate(images):
                save_png(folder / f"{index:04d}.png", image, request, scale=args.scale,
                         batch_index=index)
            print(f"wrote {len(images)} PNGs to {folder} ({result.wall_seconds:.1f} s)")
    except UserFacingError as exc:  # engine.png.saving.SaveError: full disk, no permission, …
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write the image: {exc.strerror or exc}")
    return 0
