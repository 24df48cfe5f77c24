"""How close generated points are to the data: MMD with an RBF kernel and nearest-neighbour
distance, each next to the same figure for two independent real samples (the floor).

Written out with numpy: a kernel two-sample statistic on a few thousand 2D points is a few
lines, and no runtime dependency of ours provides one.
"""

from __future__ import annotations

import numpy as np

from engine.toy2d.types import Quality

#: Kernel widths for normalised (unit-variance) data: a sum of RBF kernels sees both the
#: coarse layout and fine structure such as the gap between two moons.
BANDWIDTHS = (0.05, 0.1, 0.2, 0.5, 1.0)


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0.0)


def _kernel_mean(a: np.ndarray, b: np.ndarray) -> float:
    d2 = _squared_distances(a, b)
    return float(np.mean([np.exp(-d2 / (2 * h * h)).mean() for h in BANDWIDTHS]))


def mmd(x: np.ndarray, y: np.ndarray) -> float:
    """Biased (V-statistic) estimate of the squared MMD; ≥ 0, and ~0 for the same distribution."""
    return max(_kernel_mean(x, x) + _kernel_mean(y, y) - 2 * _kernel_mean(x, y), 0.0)


def nn_distances(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each point's distance to its nearest reference point."""
    return np.sqrt(_squared_distances(points, reference).min(axis=1))


def mean_nn_distance(points: np.ndarray, reference: np.ndarray) -> float:
    """Mean distance from each point to its nearest reference point (precision-like)."""
    return float(nn_distances(points, reference).mean())


def compare(generated: np.ndarray, real: np.ndarray, fresh_real: np.ndarray) -> Quality:
    """Quality of ``generated`` against ``real``; ``fresh_real`` (same size, independent) gives
    the value a perfect model would reach with this many points."""
    return Quality(
        mmd=mmd(generated, real),
        mmd_real_reference=mmd(fresh_real, real),
        nn_distance=mean_nn_distance(generated, real),
        nn_distance_real_reference=mean_nn_distance(fresh_real, real),
    )
