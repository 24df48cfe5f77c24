"""``generate --grid NAME=v1,v2,… --out-dir DIR``: the X/Y/Z plot (engine/stable_diffusion/xyz.py).

Cells go to ``DIR/0000.png`` … (x fastest, then y, then z), each written as soon as it is done
with the PNG record of the single ``generate`` with those values; ``DIR/grid.png`` is the
labelled table. Every target is checked before the model loads (engine/cli/outputs.py).
"""

from __future__ import annotations

GRID_FILE = "grid.png"


def grid_problem(args) -> str | None:
    """Options that do not go with --grid, as a sentence."""
    if not args.grid:
        return "--out-dir goes with --grid (for one image give --out FILE.png)"
    if args.out:
        return ("--grid writes DIR/0000.png … and DIR/grid.png: give --out-dir DIR instead of "
                "--out")
    if not args.out_dir:
        return "--grid needs --out-dir DIR (the cells and grid.png are written there)"
    if args.batch_size != 1 or args.batch_count != 1:
        return "--grid makes one image per cell: leave out --batch-size and --batch-count"
    if args.attention_out or args.recording_budget:
        return "--grid writes only the cells' final images: leave out --attention-out and " \
               "--recording-budget"
    return None


def run_grid(args) -> int:
    import secrets
    from pathlib import Path

    from PIL import Image

    from engine.cli.console import fail
    from engine.cli.generate_command import build_request, start_run
    from engine.cli.interrupt import cancelled
    from engine.cli.outputs import OutputWriter, check_targets, folder_paths, write_produced_as
    from engine.errors import Cancelled, UserFacingError, describe
    from engine.png.saving import save_image_as
    from engine.stable_diffusion.comparison import generate_one
    from engine.stable_diffusion.parameters import save_items
    from engine.stable_diffusion.xyz import axis_grid, axis_labels, cell_requests, parse_axis

    problem = grid_problem(args)
    if problem:
        return fail(problem)
    try:
        request = build_request(args)
        axes = tuple(parse_axis(text) for text in args.grid)
        count = len(cell_requests(request, axes, request.seed or 0))  # every value checked
    except ValueError as exc:
        return fail(str(exc))
    paths = folder_paths(args.out_dir, count)
    grid_path = Path(args.out_dir) / GRID_FILE
    problem = check_targets([*paths, grid_path], args.overwrite, "--out-dir")
    if problem:
        return fail(problem)
    started = start_run(request, args)
    if isinstance(started, int):
        return started
    request, reporter = started
    seed = request.seed
    if seed is None:
        seed = secrets.randbelow(2**32)
        if "seed" not in (name for name, _ in axes):  # else the axis gives each cell's seed
            print(f"seed {seed} (drawn once; every cell uses it)", flush=True)
    try:
        cells = cell_requests(request, axes, seed)
    except ValueError as exc:  # e.g. the native size with an outpaint margin
        return fail(str(exc))
    labels = axis_labels(axes)
    writer = OutputWriter(overwrite=args.overwrite)
    images = []
    for index, cell in enumerate(cells):
        try:
            result = generate_one(cell, reporter, index, len(cells))
        except Cancelled:
            writer.report()
            return cancelled(f"wrote {index} of {len(cells)} cells; no grid.png")
        except (ValueError, UserFacingError) as exc:
            writer.report()
            return fail(f"cell {index}: {exc} ({index} cells written before this)")
        except Exception as exc:  # one clear line; the traceback goes to the log
            import logging

            logging.getLogger(__name__).exception("generate --grid failed")
            writer.report()
            return fail(f"cell {index}: {describe(exc)} ({index} cells written before this)")
        item = save_items(cell, result)[0]
        images.append(item.image)
        written = writer.write(paths[index], lambda target, overwrite, item=item: save_image_as(
            target, item.image, item.parameters, item.request, item.kind, overwrite=overwrite))
        if written is not None:
            where = ", ".join(axis[index_of(index, axes, n)] for n, axis in enumerate(labels))
            print(f"wrote {written} ({where}; {result.steps_text} in {result.seconds:.1f} s)",
                  flush=True)
    grid = axis_grid(images, axes)
    written = writer.write(grid_path, lambda target, overwrite: write_produced_as(
        target, lambda temp: Image.fromarray(grid).save(temp, format="PNG"), overwrite))
    if written is not None:
        print(f"wrote {written} ({' × '.join(str(len(v)) for _, v in axes)} cells, "
              f"{grid.shape[1]}x{grid.shape[0]})", flush=True)
    return writer.report()


def index_of(cell: int, axes, axis: int) -> int:
    """Which value of ``axis`` cell number ``cell`` has (x fastest, then y, then z)."""
    stride = 1
    for _, values in axes[:axis]:
        stride *= len(values)
    return cell // stride % len(axes[axis][1])
