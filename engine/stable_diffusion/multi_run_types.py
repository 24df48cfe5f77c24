"""Torch-free requests and results of the jobs that run many generations: the X/Y/Z grid
(xyz.py, xyz_job.py) and the latent walk (walk.py). Re-exported by types.py, which registers
their handlers; ``GenerationRequest``/``GenerationResult`` are only named in annotations here,
so this module does not import types.py (which imports it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.stable_diffusion.types import GenerationRequest, GenerationResult


@dataclass(frozen=True)
class XyzGridRequest:
    """Up to three axes (x, y, z) of (name, values), each cell one normal generation of ``base``
    with those values (engine/stable_diffusion/xyz.py: names, parsing, the labelled grid)."""

    base: GenerationRequest
    axes: tuple[tuple[str, tuple], ...] = ()


@dataclass(frozen=True)
class XyzGridResult:
    axes: tuple[tuple[str, tuple], ...]
    requests: tuple[GenerationRequest, ...]  # per cell, x fastest, then y, then z; seed set
    results: tuple[GenerationResult, ...]  # per cell (its own parameters, for saving)
    grid: np.ndarray  # the labelled grid, HxWx3 uint8
    seed: int


@dataclass(frozen=True)
class SdWalkRequest:
    """``base``: a txt2img request with its seed (the walk's start); ``seed_to`` and/or
    ``prompt_to``: where it ends (None: that stays as in ``base``)."""

    base: GenerationRequest
    frames: int = 8
    seed_to: int | None = None
    prompt_to: str | None = None

    def __post_init__(self) -> None:
        if self.base.mode != "txt2img" or self.base.seed is None:
            raise ValueError("A walk needs a text-to-image request with a seed.")
        if self.base.batch_size != 1 or self.base.batch_count != 1:
            raise ValueError("A walk makes one image per frame (batch size and count 1).")
        if self.seed_to is None and self.prompt_to is None:
            raise ValueError("A walk needs a second seed or a second prompt.")
        if not 2 <= self.frames <= 1000:
            raise ValueError("A walk has 2 to 1000 frames.")

    def fraction(self, index: int) -> float:
        return index / (self.frames - 1)


@dataclass(frozen=True)
class SdWalkFrame:
    index: int
    total: int
    fraction: float
    image: np.ndarray  # H×W×3 uint8
    parameters: dict  # the run's parameters (as GenerationResult.parameters)
