"""Small numeric helpers shared by the plots of several tabs (numpy only, no widgets)."""

from __future__ import annotations

import math

import numpy as np


def normal_pdf(x: np.ndarray) -> np.ndarray:
    """The standard normal density N(0, 1) at ``x`` (the reference curve under histograms)."""
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
