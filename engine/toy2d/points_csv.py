"""Point sets as CSV with columns ``x,y`` (torch-free; the GUI and CLI both write them)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def write_points_csv(path: str | Path, points: np.ndarray) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "y"])
        writer.writerows((repr(float(x)), repr(float(y))) for x, y in np.asarray(points))


def read_points_csv(path: str | Path) -> np.ndarray:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([[float(row["x"]), float(row["y"])] for row in rows], dtype=np.float64)
