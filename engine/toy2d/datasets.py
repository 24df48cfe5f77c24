"""2D point data sets, generated on the fly with numpy (seeded, centred, unit variance).

Scikit-learn has swiss roll/moons/circles but is not a runtime dependency, and the others
(checkerboard, smiley) exist nowhere, so all are written out here in a few lines each.
"""

from __future__ import annotations

import numpy as np

from engine.toy2d.types import DatasetSpec


def _swiss_roll(n: int, rng: np.random.Generator) -> np.ndarray:
    angle = 1.5 * np.pi * (1 + 2 * rng.random(n))
    points = np.stack([angle * np.cos(angle), angle * np.sin(angle)], axis=1)
    return points + 0.4 * rng.standard_normal((n, 2))


def _two_moons(n: int, rng: np.random.Generator) -> np.ndarray:
    upper = rng.random(n) < 0.5
    angle = np.pi * rng.random(n)
    x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    return np.stack([x, y], axis=1) + 0.06 * rng.standard_normal((n, 2))


def _circles(n: int, rng: np.random.Generator) -> np.ndarray:
    radius = np.where(rng.random(n) < 0.5, 1.0, 0.45)
    angle = 2 * np.pi * rng.random(n)
    points = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return points + 0.03 * rng.standard_normal((n, 2))


# The Gaussian mixture: equal weights, centres evenly on a circle, isotropic spread (raw units,
# before normalisation); engine/toy2d/exact.py builds its exact density from these.
MIXTURE_COMPONENTS = 8
MIXTURE_RADIUS = 2.0
MIXTURE_STD = 0.15


def mixture_centres() -> np.ndarray:
    """The raw centres of the Gaussian mixture, component k at angle 2πk/8."""
    angle = 2 * np.pi * np.arange(MIXTURE_COMPONENTS) / MIXTURE_COMPONENTS
    return MIXTURE_RADIUS * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def _gaussian_mixture(n: int, rng: np.random.Generator) -> np.ndarray:
    centre_angle = 2 * np.pi * rng.integers(0, MIXTURE_COMPONENTS, n) / MIXTURE_COMPONENTS
    centres = MIXTURE_RADIUS * np.stack([np.cos(centre_angle), np.sin(centre_angle)], axis=1)
    return centres + MIXTURE_STD * rng.standard_normal((n, 2))


def _checkerboard(n: int, rng: np.random.Generator) -> np.ndarray:
    # Uniform in the 8 black squares of a 4×4 board: pick a column, then a row of matching parity.
    column = rng.integers(0, 4, n)
    row = 2 * rng.integers(0, 2, n) + (column % 2)
    x = column + rng.random(n) - 2
    y = row + rng.random(n) - 2
    return np.stack([x, y], axis=1)


def _smiley(n: int, rng: np.random.Generator) -> np.ndarray:
    part = rng.choice(4, size=n, p=[0.5, 0.1, 0.1, 0.3])  # face, left eye, right eye, mouth
    angle = 2 * np.pi * rng.random(n)
    face = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    eye = 0.18 * np.sqrt(rng.random(n))[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    left_eye = eye + [-0.7, 0.6]
    right_eye = eye + [0.7, 0.6]
    mouth_angle = np.pi * (1.2 + 0.6 * rng.random(n))
    mouth = 1.1 * np.stack([np.cos(mouth_angle), np.sin(mouth_angle)], axis=1) + [0, 0.2]
    points = np.choose(part[:, None], [face, left_eye, right_eye, mouth])
    return points + 0.04 * rng.standard_normal((n, 2))


def _custom(n: int, rng: np.random.Generator, drawn: np.ndarray) -> np.ndarray:
    # Each sample is a drawn point plus a little jitter (2% of the drawing's spread).
    spread = float(np.sqrt(np.mean(np.var(drawn, axis=0)))) or 1.0
    picks = drawn[rng.integers(0, len(drawn), n)]
    return picks + 0.02 * spread * rng.standard_normal((n, 2))


_GENERATORS = {
    "swiss_roll": _swiss_roll,
    "two_moons": _two_moons,
    "circles": _circles,
    "gaussian_mixture": _gaussian_mixture,
    "checkerboard": _checkerboard,
    "smiley": _smiley,
}


def normalisation(spec: DatasetSpec) -> tuple[np.ndarray, float]:
    """Centre and scale that bring this data set to mean 0 and unit variance per coordinate
    on average. Taken from a large fixed-seed draw, so every sample shares one transform."""
    raw = _raw(spec, 20_000, np.random.default_rng(12345))
    mean = raw.mean(axis=0)
    scale = float(np.sqrt(np.mean(np.var(raw, axis=0)))) or 1.0
    return mean, scale


def extent(spec: DatasetSpec) -> float:
    """The largest |coordinate| of the normalised data set (from the same fixed-seed draw as
    ``normalisation``): samplers clip their estimate of x₀ to a little more than this."""
    mean, scale = normalisation(spec)
    raw = _raw(spec, 20_000, np.random.default_rng(12345))
    return float(np.abs((raw - mean) / scale).max())


def _raw(spec: DatasetSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    if spec.name == "custom":
        return _custom(n, rng, np.asarray(spec.points, dtype=np.float64))
    return _GENERATORS[spec.name](n, rng)


def sample_dataset(spec: DatasetSpec, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """``n`` points of the data set as float32 (n, 2), normalised (one isotropic scale, so
    shapes keep their aspect ratio)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mean, scale = normalisation(spec)
    return ((_raw(spec, n, rng) - mean) / scale).astype(np.float32)
