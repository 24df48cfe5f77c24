"""CSV export of schedule curves (torch-free, so the GUI can write it directly)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from engine.schedules.types import ScheduleCurves


def _format(value: float) -> str:
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return repr(float(value))


def write_schedule_csv(path: str | Path, curves: Sequence[ScheduleCurves],
                       with_schedule_column: bool = False) -> None:
    """One row per t; with several schedules, a leading ``schedule`` column names each row's."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = list(curves[0].table())
        writer.writerow((["schedule"] if with_schedule_column else []) + header)
        for item in curves:
            columns = item.table()
            for row in range(len(item.betas)):
                values = [str(int(columns["t"][row]))] + [
                    _format(columns[name][row]) for name in header[1:]
                ]
                writer.writerow(([item.spec.label] if with_schedule_column else []) + values)
