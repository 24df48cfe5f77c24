"""Requests and results of the forward-process page (torch-free: the GUI builds and reads them).

Results carry float32 numpy arrays so the GUI can scrub with numpy alone: x_t for any t is one
fused expression of ``x0``, ``noise`` and ``alphas_cumprod[t]`` (see engine/forward/frames.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.images import DEFAULT_WORKING_SIZE
from engine.schedules.types import ScheduleSpec
from engine.spectrum import SpectrumParts

# Built-in image sources: key -> (label, "module:function"). The function takes
# (working_size, grayscale) and returns an engine.images.LoadedImage; it runs in the engine
# thread. Add a source with one line here.
IMAGE_SOURCES: dict[str, tuple[str, str]] = {
    "astronaut": ("Astronaut (NASA, public domain)", "engine.forward.sources:astronaut"),
    "chelsea": ("Chelsea the cat (CC0)", "engine.forward.sources:chelsea"),
    "coffee": ("Coffee cup (CC0)", "engine.forward.sources:coffee"),
    "test_card": ("Test card (generated)", "engine.forward.sources:test_card_image"),
    "digits": ("Digits (the embedded model's training data)", "engine.forward.sources:digits_tile"),
}

# Markov-chain frames are kept in memory for scrubbing; above this they are stored every k-th
# step (see engine.forward.noising.markov_stride).
MARKOV_MEMORY_BUDGET = 256 * 1024 * 1024


@dataclass(frozen=True)
class LoadImageRequest:
    """Load a built-in source (``source_key``) or a file (``path``) at the working size."""

    source_key: str | None = None
    path: str | None = None
    working_size: int = DEFAULT_WORKING_SIZE
    grayscale: bool = False

    def __post_init__(self) -> None:
        if (self.source_key is None) == (self.path is None):
            raise ValueError("give exactly one of source_key and path")
        if self.source_key is not None and self.source_key not in IMAGE_SOURCES:
            raise ValueError(f"unknown image source {self.source_key!r}")


@dataclass(frozen=True)
class ForwardRequest:
    """Everything the closed form needs: x₀ in [−1, 1], a seeded ε, and the schedule's ᾱ."""

    image: np.ndarray = field(compare=False)  # HxWxC uint8, C = 1 or 3
    spec: ScheduleSpec = ScheduleSpec()
    seed: int = 0


@dataclass(frozen=True)
class ForwardResult:
    spec: ScheduleSpec
    seed: int
    x0: np.ndarray  # HxWxC float32 in [−1, 1]
    noise: np.ndarray  # HxWxC float32, ε ~ N(0, I), drawn with torch from ``seed``
    betas: np.ndarray  # (T,) float64, from diffusers' DDPMScheduler
    alphas_cumprod: np.ndarray  # (T,) float64
    # x₀'s and ε's radial power spectra (and their cross term): x_t's at any t without an FFT.
    spectrum: SpectrumParts | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MarkovRequest:
    """Run x_t = √(1−β_t)·x_{t−1} + √β_t·ε_t from x₀ for t = 0 … T−1, with fresh ε_t each step."""

    image: np.ndarray = field(compare=False)  # HxWxC uint8
    spec: ScheduleSpec = ScheduleSpec()
    seed: int = 0
    memory_budget: int = MARKOV_MEMORY_BUDGET


@dataclass(frozen=True)
class MarkovResult:
    spec: ScheduleSpec
    seed: int
    stride: int  # frames kept every ``stride`` steps (1 = every step)
    timesteps: np.ndarray  # (N,) int, the t of each kept frame, increasing, last = T−1
    frames: np.ndarray  # (N, H, W, C) uint8, x_t mapped from [−1, 1] to 0–255
    histograms: np.ndarray  # (N, bins) float32, density of x_t's values (HISTOGRAM_EDGES)

    def index_for(self, t: int) -> int:
        """The kept frame at or just before t."""
        return max(0, int(np.searchsorted(self.timesteps, t, side="right")) - 1)


@dataclass(frozen=True)
class AnimationRequest:
    """Write the forward process as an animated GIF or WebP (``path``'s suffix decides)."""

    path: str
    x0: np.ndarray = field(compare=False)
    noise: np.ndarray = field(compare=False)
    alphas_cumprod: np.ndarray = field(compare=False)
    frame_count: int = 60
    frame_ms: int = 80
    max_side: int = 256
    parameters: str = ""


JOB_HANDLERS: dict[type, str] = {
    LoadImageRequest: "engine.forward.noising:run_load_image_job",
    ForwardRequest: "engine.forward.noising:run_forward_job",
    MarkovRequest: "engine.forward.noising:run_markov_job",
    AnimationRequest: "engine.forward.export:run_animation_job",
}
