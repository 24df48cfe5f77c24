"""``make-tiny-sd``: write a tiny random-weight Stable Diffusion pipeline (developer tool)."""

from __future__ import annotations

from engine.cli import add_command
from engine.cli.arguments import SEED_HELP, seed


def register(subparsers) -> None:
    parser = add_command(subparsers, "make-tiny-sd", run,
                         "write a tiny random-weight SD pipeline (for tests and smoke tests)")
    parser.add_argument("directory", metavar="DIR")
    parser.add_argument("--seed", type=seed, default=0, metavar="S",
                        help=f"weight initialisation seed; {SEED_HELP}")


def run(args) -> int:
    """Writes DIR/tiny-sd/ (a diffusers folder) and DIR/tiny-sd.safetensors (one original-layout
    checkpoint). Random weights: images look like noise; it checks the loading and generation
    code without downloading a model.
    """
    from engine.cli.console import fail
    from engine.fixtures.tiny_sd import save_tiny_pipeline

    try:
        folder, single_file = save_tiny_pipeline(args.directory, seed=args.seed)
    except OSError as exc:
        return fail(f"cannot write {args.directory}: {exc.strerror or exc}")
    print(f"wrote {folder} and {single_file}")
    return 0
