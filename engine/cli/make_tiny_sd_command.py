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
    parser.add_argument("--family", choices=sorted(FAMILY_SAVERS), default="sd15",
                        help="the architecture: sd15 (default; also writes a single-file "
                             "checkpoint), sdxl, sd3 or flux (a diffusers folder DIR/tiny-<name>)")


# --family → (module, function) of the fixture that builds and saves it.
FAMILY_SAVERS = {
    "sd15": ("engine.fixtures.tiny_sd", "save_tiny_pipeline"),
    "sdxl": ("engine.fixtures.tiny_sdxl", "save_tiny_sdxl_pipeline"),
    "sd3": ("engine.fixtures.tiny_sd3", "save_tiny_sd3_pipeline"),
    "flux": ("engine.fixtures.tiny_flux", "save_tiny_flux_pipeline"),
}


def run(args) -> int:
    """Writes DIR/tiny-sd/ (a diffusers folder) and DIR/tiny-sd.safetensors (one original-layout
    checkpoint), or with --family another architecture's folder. Random weights: images look like
    noise; it checks the loading and generation code without downloading a model.
    """
    import importlib

    from engine.cli.console import fail

    module, function = FAMILY_SAVERS[args.family]
    save = getattr(importlib.import_module(module), function)
    try:
        written = save(args.directory, seed=args.seed)
    except OSError as exc:
        return fail(f"cannot write {args.directory}: {exc.strerror or exc}")
    paths = written if isinstance(written, tuple) else (written,)
    print("wrote " + " and ".join(str(path) for path in paths))
    return 0
