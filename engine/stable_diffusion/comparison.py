"""Comparison grid: one prompt and seed across several guidance scales, step counts or samplers."""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.errors import Cancelled
from engine.stable_diffusion.types import ComparisonGridRequest, ComparisonGridResult

VARIABLES = {"guidance_scale": "CFG", "steps": "steps", "scheduler": "sampler"}
LABEL_HEIGHT = 22


def comparison_grid_job(request: ComparisonGridRequest, reporter) -> ComparisonGridResult:
    import secrets

    if request.vary not in VARIABLES:
        raise ValueError(f"Can vary only {', '.join(VARIABLES)}.")
    if not request.values:
        raise ValueError("Give at least one value to compare.")
    seed = request.base.seed if request.base.seed is not None else secrets.randbelow(2**32)
    images = []
    for index, value in enumerate(request.values):
        single = dataclasses.replace(request.base, seed=seed, batch_size=1, batch_count=1,
                                     **{request.vary: value})
        images.append(generate_one(single, reporter, index, len(request.values)).images[0])
    grid = labelled_grid(images, [f"{VARIABLES[request.vary]} {value}" for value in request.values])
    return ComparisonGridResult(request.vary, tuple(request.values), tuple(images), grid, seed)


def generate_one(single, reporter, index: int, total: int):
    """Image ``index`` of ``total`` of a grid: ``single`` run without previews, step recording
    or attention maps (a grid keeps only final images), sharing the grid's cancel flag, its
    progress folded into the grid's. The GenerationResult."""
    from engine.reporting import Reporter
    from engine.stable_diffusion.generation import run_generation

    reporter.check_cancelled()
    single = dataclasses.replace(single, preview_every=0, record_steps=False,
                                 capture_attention=False)
    inner = Reporter(reporter.cancel_event, on_progress=lambda update: reporter.progress(
        index * 1000 + int(1000 * update.fraction), total * 1000, f"image {index + 1}/{total}"))
    try:
        return run_generation(single, inner)
    except Cancelled:
        raise Cancelled(None) from None


def labelled_grid(images: list[np.ndarray], labels: list[str], columns: int | None = None) -> np.ndarray:
    """Images in rows of ``columns`` (default: all in one row) with a caption above each."""
    columns = columns or len(images)
    height = max(image.shape[0] for image in images)
    width = max(image.shape[1] for image in images)
    rows = -(-len(images) // columns)
    canvas = Image.new("RGB", (columns * width, rows * (height + LABEL_HEIGHT)), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        x = (index % columns) * width
        y = (index // columns) * (height + LABEL_HEIGHT)
        draw.text((x + 4, y + 4), label, fill="black", font=font)
        canvas.paste(Image.fromarray(image), (x, y + LABEL_HEIGHT))
    return np.asarray(canvas)
