"""X/Y/Z plot: any generation parameter on up to three axes, one normal generation per cell.

Each cell is the request a single ``generate`` with those values would make (same seed unless
the seed is an axis), so its pixels and its PNG record are that run's. Cells are ordered x
fastest, then y, then z. The values are typed here (``parse_axis``) so the CLI and the GUI refuse
the same bad input before any model loads. Torch-free: the GUI builds and checks its axes with it; the job is in xyz_job.py.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.stable_diffusion.types import GenerationRequest

# Axis name (the generate option without dashes) -> its caption in the grid.
AXIS_LABELS = {
    "prompt": "prompt", "negative": "negative", "seed": "seed", "steps": "steps",
    "guidance": "CFG", "scheduler": "sampler", "strength": "strength", "width": "width",
    "height": "height", "lora": "LoRA weight", "hires-scale": "hires scale",
    "hires-strength": "hires strength",
}
AXIS_NAMES = tuple(AXIS_LABELS)
# Axis name -> the GenerationRequest field it sets (prompt and lora are handled apart).
_FIELDS = {"negative": "negative_prompt", "seed": "seed", "steps": "steps",
           "guidance": "guidance_scale", "scheduler": "scheduler", "strength": "strength",
           "width": "width", "height": "height", "hires-scale": "hires_scale",
           "hires-strength": "hires_strength"}
_INTS = {"seed", "steps", "width", "height"}
_FLOATS = {"guidance", "strength", "lora", "hires-scale", "hires-strength"}
MAX_AXES = 3
MAX_CELLS = 400


def split_values(text: str) -> list[str]:
    """``a, b,"c, d"`` -> ``["a", "b", "c, d"]``: commas separate, double quotes keep a comma
    (CSV's rule, so ``""`` inside quotes is a quote)."""
    try:
        row = next(csv.reader([text], skipinitialspace=True, strict=True), [])
    except csv.Error as exc:
        raise ValueError(f"cannot read the values {text!r}: {exc}") from None
    return [value.strip() for value in row]


def parse_axis(text: str) -> tuple[str, tuple]:
    """``"NAME=v1,v2,…"`` -> (NAME, typed values); ValueError with a sentence when wrong."""
    name, sep, values_text = text.partition("=")
    name = name.strip().lower().lstrip("-")
    if not sep or name not in AXIS_LABELS:
        raise ValueError(f"--grid {text!r}: write NAME=v1,v2,… with NAME one of "
                         f"{', '.join(AXIS_NAMES)}")
    values = split_values(values_text)
    if not values or any(v == "" for v in values) and name not in ("prompt", "negative"):
        raise ValueError(f"--grid {name}: give the values separated by commas (none may be empty)")
    return name, tuple(typed_value(name, value) for value in values)


def typed_value(name: str, text):
    """One value of axis ``name`` as the request field wants it."""
    fields = {field.name for field in dataclasses.fields(GenerationRequest)}
    if name.startswith("hires-") and _FIELDS[name] not in fields:
        raise ValueError(f"--grid {name}: hires fix is not available yet")
    if not isinstance(text, str):
        return text
    try:
        if name in _INTS:
            return int(text)
        if name in _FLOATS:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        kind = "whole number" if name in _INTS else "finite number"
        raise ValueError(f"--grid {name}: {text!r} is not a {kind}") from None
    if name == "scheduler":
        from engine.samplers.names import sd_scheduler

        return sd_scheduler(text)
    return text


def apply_value(request: GenerationRequest, name: str, value, values: tuple) -> GenerationRequest:
    """``request`` with axis ``name`` at ``value`` (``values``: the whole axis, for prompt S/R)."""
    if name == "prompt":
        # Search/replace in the prompt and the negative prompt, as AUTOMATIC1111's Prompt S/R.
        search = values[0]
        if search not in request.prompt and search not in request.negative_prompt:
            raise ValueError(f"--grid prompt: the first value {search!r} (the text each value "
                             f"replaces) is not in the prompt {request.prompt!r} nor in the "
                             "negative prompt")
        return dataclasses.replace(request, prompt=request.prompt.replace(search, value),
                                   negative_prompt=request.negative_prompt.replace(search, value))
    if name == "lora":
        if not request.loras:
            raise ValueError("--grid lora sets the weight of the first --lora; give a --lora")
        first = dataclasses.replace(request.loras[0], weight=value)
        return dataclasses.replace(request, loras=(first, *request.loras[1:]))
    return dataclasses.replace(request, **{_FIELDS[name]: value})


def check_axes(axes) -> None:
    if len(axes) > MAX_AXES:
        raise ValueError(f"--grid: at most {MAX_AXES} axes (x, y, z)")
    names = [name for name, _ in axes]
    if len(set(names)) < len(names):
        raise ValueError("--grid: each parameter may be on one axis only")
    if not axes or math.prod(len(values) for _, values in axes) > MAX_CELLS:
        raise ValueError(f"--grid: a grid has 1 to {MAX_CELLS} cells")


def cell_requests(base: GenerationRequest, axes, seed: int) -> list[GenerationRequest]:
    """One request per cell, x fastest, then y, then z; each exactly the single run's request
    (bad values raise ValueError here, before any model loads)."""
    check_axes(axes)
    base = dataclasses.replace(base, seed=seed, batch_size=1, batch_count=1)
    cells = []
    for coordinates in itertools.product(*(values for _, values in reversed(axes))):
        request = base
        for (name, values), value in zip(axes, reversed(coordinates), strict=True):
            request = apply_value(request, name, value, values)
        cells.append(request)
    return cells


def value_text(name: str, value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def axis_labels(axes) -> list[list[str]]:
    """Per axis, the caption of each value ("CFG: 7.5")."""
    return [[f"{AXIS_LABELS[name]}: {value_text(name, value)}" for value in values]
            for name, values in axes]


def axis_grid(images: list[np.ndarray], axes) -> np.ndarray:
    """The cells as a table: x values above the columns, y values left of the rows, one table
    per z value under its own title. Readable labels: a scalable font sized to the cells."""
    labels = axis_labels(axes) + [[""]] * (MAX_AXES - len(axes))
    columns, rows, layers = (len(labels[0]), len(labels[1]), len(labels[2]))
    cell_w = max(image.shape[1] for image in images)
    cell_h = max(image.shape[0] for image in images)
    font = ImageFont.load_default(size=max(14, min(cell_w, cell_h) // 14))
    line = int(font.size * 1.3)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    x_lines = [_wrap(measure, text, font, cell_w - 8) for text in labels[0]]
    header = (max(len(lines) for lines in x_lines) * line + 8) if len(axes) >= 1 else 0
    left = 0
    if len(axes) >= 2:
        left = min(int(max(measure.textlength(t, font=font) for t in labels[1])) + 16,
                   max(cell_w, 160))
    y_lines = [_wrap(measure, text, font, left - 12) for text in labels[1]]
    title = line + 12 if len(axes) == 3 else 0
    block_h = title + header + rows * cell_h
    canvas = Image.new("RGB", (left + columns * cell_w, layers * block_h), "white")
    draw = ImageDraw.Draw(canvas)
    for index, image in enumerate(images):
        x, y, z = index % columns, index // columns % rows, index // (columns * rows)
        top = z * block_h + title + header
        canvas.paste(Image.fromarray(image), (left + x * cell_w, top + y * cell_h))
    for z in range(layers):
        top = z * block_h
        if title:
            draw.text((6, top + 6), labels[2][z], fill="black", font=font)
        for x, lines in enumerate(x_lines):
            for n, text in enumerate(lines):
                draw.text((left + x * cell_w + 4, top + title + 4 + n * line), text,
                          fill="black", font=font)
        for y, lines in enumerate(y_lines if len(axes) >= 2 else []):
            cell_top = top + title + header + y * cell_h
            for n, text in enumerate(lines):
                draw.text((6, cell_top + 4 + n * line), text, fill="black", font=font)
    return np.asarray(canvas)


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` px (a long prompt value must not run into the
    next column); characters, not words, when a word alone is too wide."""
    lines, current = [], ""
    for char in text:
        if current and draw.textlength(current + char, font=font) > max(width, 20):
            lines.append(current)
            current = char.lstrip()
        else:
            current += char
    return [*lines, current] if current or not lines else lines
