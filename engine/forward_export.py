"""Exports of the forward process: one frame, a strip of frames, an animation (Pillow only).

PNG files carry a text chunk "parameters" with what made the picture (source, schedule, t,
seed) as one ``key=value; …`` line, so a saved frame can be reproduced.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from engine.errors import UserFacingError
from engine.forward_frames import FrameRenderer, evenly_spaced_timesteps
from engine.forward_types import AnimationRequest
from engine.requests import ScheduleSpec

ANIMATION_FORMATS = ("gif", "webp")


def parameters_text(source: str, spec: ScheduleSpec, seed: int, **extra) -> str:
    """One line describing a frame, e.g. ``source=astronaut.jpg; schedule=linear (T=1000, …); t=500``."""
    fields = {"process": "forward", "source": source, "schedule": spec.label, "seed": seed, **extra}
    return "; ".join(f"{key}={value}" for key, value in fields.items())


def _as_image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)


def save_png(pixels: np.ndarray, path: str | Path, parameters: str = "") -> None:
    """HxWxC uint8 → PNG with the "parameters" text chunk."""
    info = PngInfo()
    if parameters:
        info.add_text("parameters", parameters)
    try:
        _as_image(pixels).save(path, "PNG", pnginfo=info)
    except OSError as exc:
        raise UserFacingError(f"Could not write {path}: {exc.strerror or exc}") from None


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
