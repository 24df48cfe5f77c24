"""Exports of the forward process: one frame, a strip of frames, an animation (Pillow only).

PNG files carry the shared metadata (engine/png/): A1111-style ``parameters`` text (seed,
size, schedule, ``Timestep`` = t: never ``Steps``, which readers take for a step count) and, as
JSON of kind "forward", the record the forward page restores (source, schedule, t, seed, working
size, grayscale). Files from versions that wrote t as ``Steps`` restore the same way: the page
reads t from the JSON record. Animations carry the text as a GIF comment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.errors import UserFacingError
from engine.forward.frames import FrameRenderer, evenly_spaced_timesteps
from engine.forward.types import AnimationRequest
from engine.png.a1111 import GenerationParameters
from engine.png.record import KIND_FORWARD, to_jsonable
from engine.png.saving import save_image_as
from engine.schedules.types import ScheduleSpec

ANIMATION_FORMATS = ("gif", "webp")


def export_record(spec: ScheduleSpec, seed: int, source: str, *, source_key: str | None = None,
                  path: str | None = None, working_size: int | None = None,
                  grayscale: bool = False, t=None, export: str = "frame") -> dict:
    """The JSON request of an export: enough to show the same x_t again (``t``: one timestep,
    a list for a strip, None for an animation)."""
    return {
        "export": export, "source": source, "source_key": source_key, "path": path,
        "working_size": working_size, "grayscale": bool(grayscale),
        "schedule": to_jsonable(spec), "seed": int(seed),
        "t": [int(v) for v in t] if isinstance(t, (list, tuple, np.ndarray)) else
        (int(t) if t is not None else None),
    }


def export_parameters(record: dict, size: tuple[int, int] | None = None) -> GenerationParameters:
    """The A1111 fields that fit: seed, size, schedule; t under its own key ``Timestep`` (A1111's
    ``Steps`` is a number of sampling steps, which a forward frame does not have); the rest as
    extras."""
    spec = ScheduleSpec(**record["schedule"])
    t = record.get("t")
    extra = {"Process": "forward", "Source": record.get("source", ""),
             "Timesteps T": str(spec.num_train_timesteps)}
    if isinstance(t, int):
        extra["Timestep"] = str(t)
    elif isinstance(t, list):
        extra["Frames at t"] = ",".join(map(str, t))
    elif t is None:
        extra["Frames at t"] = f"0…{spec.num_train_timesteps - 1}"
    if record.get("grayscale"):
        extra["Grayscale"] = "yes"
    width, height = size if size is not None else (None, None)
    return GenerationParameters(schedule_type=spec.label, seed=record.get("seed"),
                                width=width, height=height, extra=extra)


def parameters_text(record: dict) -> str:
    """The A1111 text of an export (e.g. for an animation's comment)."""
    from engine.png.a1111 import format_parameters

    return format_parameters(export_parameters(record))


def _as_image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)


def save_forward_png(path: str | Path, pixels: np.ndarray, record: dict, *,
                     overwrite: bool = True) -> Path:
    """HxWxC uint8 → PNG with both metadata chunks, written atomically (same shape as
    ``engine.digits.outputs.save_digits_png``: path, pixels, what made them). ``overwrite``: the
    GUI's file dialog has asked already; the CLI refuses unless told."""
    height, width = pixels.shape[:2]
    parameters = export_parameters(record, (int(width), int(height)))
    return save_image_as(path, pixels, parameters, record, KIND_FORWARD, overwrite=overwrite)


def frame_strip(renderer: FrameRenderer, timesteps, cell: int = 160, gap: int = 4) -> np.ndarray:
    """The frames at ``timesteps`` side by side, each scaled to ``cell`` px high, captioned t."""
    height, width = renderer.x0.shape[:2]
    cell_width = max(1, round(width * cell / height))
    caption = 18
    strip = Image.new("RGB", (len(timesteps) * (cell_width + gap) - gap, cell + caption), "white")
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default()
    for index, t in enumerate(timesteps):
        frame = _as_image(renderer.pixels(int(t))).convert("RGB")
        frame = frame.resize((cell_width, cell), Image.Resampling.LANCZOS)
        left = index * (cell_width + gap)
        strip.paste(frame, (left, 0))
        draw.text((left + cell_width / 2, cell + 3), f"t = {t}", fill="black", font=font, anchor="ma")
    return np.asarray(strip)


def save_animation(renderer: FrameRenderer, path: str | Path, frame_count: int = 60,
                   frame_ms: int = 80, max_side: int = 256, parameters: str = "",
                   reporter=None) -> int:
    """The forward process t = 0 … T−1 as an animated GIF or WebP; returns the frame count."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ANIMATION_FORMATS:
        raise UserFacingError(f"Animations are written as .gif or .webp, not {path.suffix or 'no suffix'}.")
    timesteps = evenly_spaced_timesteps(renderer.num_timesteps, min(frame_count, renderer.num_timesteps))
    frames = []
    for index, t in enumerate(timesteps):
        if reporter is not None:
            reporter.check_cancelled()
            reporter.progress(index, len(timesteps), f"frame t = {t}")
        frame = _as_image(renderer.pixels(t))
        frame.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        frames.append(frame.convert("RGB"))
    if reporter is not None:
        reporter.progress(len(timesteps), len(timesteps), "encoding")
    # Hold the first (clean) and last (pure noise) frames a little longer.
    durations = [frame_ms] * len(frames)
    durations[0] = durations[-1] = frame_ms * 8
    options = {"save_all": True, "append_images": frames[1:], "duration": durations, "loop": 0}
    if suffix == "gif":
        options["comment"] = parameters.encode("utf-8")
    else:
        options.update(quality=80, method=4)
    try:
        frames[0].save(path, suffix.upper(), **options)
    except OSError as exc:
        raise UserFacingError(f"Could not write {path}: {exc.strerror or exc}") from None
    return len(frames)


def run_animation_job(request: AnimationRequest, reporter) -> str:
    renderer = FrameRenderer(request.x0, request.noise, request.alphas_cumprod)
    save_animation(renderer, request.path, request.frame_count, request.frame_ms,
                   request.max_side, request.parameters, reporter)
    return request.path
