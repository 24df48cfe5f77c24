"""What the samplers page draws, from results: ODE and SDE paths, Langevin chains, the ideal
denoiser's samples on its training points, nearest-training-point histograms, the learned
field's error over t and the sampler lab's log–log error against N. No widgets are made here."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from playground_gui.tabs.toy2d.plots import DATA_COLOR, SAMPLE_COLOR

REAL_BRUSH = pg.mkBrush(150, 150, 150, 90)
NETWORK_COLOR = (0, 158, 115)
LAB_COLORS = {"ddim": (0, 114, 178), "heun": (213, 94, 0), "dpmpp_2m": (0, 158, 115)}


def clear(plot: pg.PlotItem) -> None:
    plot.clear()
    legend = plot.legend
    if legend is not None:
        legend.clear()


def _polylines(paths: np.ndarray) -> np.ndarray:
    """(frames, n, 2) → one (n·(frames+1), 2) polyline, NaN rows between paths."""
    padded = np.concatenate([paths, np.full((1,) + paths.shape[1:], np.nan)], axis=0)
    return padded.transpose(1, 0, 2).reshape(-1, 2)


def point_color(index: int, count: int, alpha: int = 255):
    return pg.intColor(index, max(count, 1), alpha=alpha)


def draw_paths(plot: pg.PlotItem, result) -> None:
    """Each starting point's colour: its SDE paths thin, its ODE path thick and dark-edged."""
    clear(plot)
    plot.addItem(pg.ScatterPlotItem(result.real[:, 0], result.real[:, 1], size=3, pen=None,
                                    brush=REAL_BRUSH))
    count = result.ode.shape[1]
    for p in range(count):
        sde = _polylines(result.sde[:, :, p])
        plot.addItem(pg.PlotCurveItem(sde[:, 0], sde[:, 1], connect="finite",
                                      pen=pg.mkPen(point_color(p, count, 90), width=0.8)))
        ode = result.ode[:, p]
        plot.addItem(pg.PlotCurveItem(ode[:, 0], ode[:, 1], pen=pg.mkPen("k", width=4.5)))
        plot.addItem(pg.PlotCurveItem(ode[:, 0], ode[:, 1],
                                      pen=pg.mkPen(point_color(p, count), width=2.5)))
        ends = result.sde[-1, :, p]
        plot.addItem(pg.ScatterPlotItem(ends[:, 0], ends[:, 1], size=7, symbol="o",
                                        pen=pg.mkPen("k"), brush=point_color(p, count, 160)))
    starts, finals = result.ode[0], result.ode[-1]
    plot.addItem(pg.ScatterPlotItem(starts[:, 0], starts[:, 1], size=11, symbol="s",
                                    pen=pg.mkPen("k", width=1.5), brush=pg.mkBrush("w")))
    plot.addItem(pg.ScatterPlotItem(finals[:, 0], finals[:, 1], size=12, symbol="star",
                                    pen=pg.mkPen("k"), brush=pg.mkBrush("k")))


def chain_segments(trajectory: np.ndarray, pieces: int = 6) -> list[tuple[int, np.ndarray]]:
    """The chains cut into ``pieces`` consecutive stretches of moves (overlapping by one
    frame), for drawing early moves faint and late ones strong: [(piece, (frames, n, 2))]."""
    bounds = np.linspace(0, len(trajectory) - 1, pieces + 1).round().astype(int)
    return [(k, trajectory[bounds[k]:bounds[k + 1] + 1]) for k in range(pieces)
            if bounds[k + 1] > bounds[k]]


def draw_chains(plot: pg.PlotItem, result, real: np.ndarray | None = None) -> None:
    """Every move of a few Langevin chains (a SampleResult of few points, all frames), early
    moves (high noise levels, wide jumps) faint, the last ones strong."""
    clear(plot)
    backdrop = result.real if real is None else real
    plot.addItem(pg.ScatterPlotItem(backdrop[:, 0], backdrop[:, 1], size=3, pen=None,
                                    brush=REAL_BRUSH))
    trajectory = result.trajectory
    count = trajectory.shape[1]
    segments = chain_segments(trajectory)
    for piece, stretch in segments:
        alpha = int(25 + 230 * (piece / max(1, len(segments) - 1)) ** 2)
        for p in range(count):
            path = stretch[:, p]
            plot.addItem(pg.PlotCurveItem(path[:, 0], path[:, 1],
                                          pen=pg.mkPen(point_color(p, count, alpha), width=1.2)))
    plot.addItem(pg.ScatterPlotItem(trajectory[0, :, 0], trajectory[0, :, 1], size=10,
                                    symbol="s", pen=pg.mkPen("k"), brush=pg.mkBrush("w")))
    plot.addItem(pg.ScatterPlotItem(trajectory[-1, :, 0], trajectory[-1, :, 1], size=12,
                                    symbol="star", pen=pg.mkPen("k"), brush=pg.mkBrush("k")))
def draw_memorisation(plot: pg.PlotItem, result) -> None:
    clear(plot)
    if result.network is not None:
        plot.addItem(pg.ScatterPlotItem(result.network[:, 0], result.network[:, 1], size=4,
                                        pen=None, brush=pg.mkBrush(*NETWORK_COLOR, 150)))
    plot.addItem(pg.ScatterPlotItem(result.training[:, 0], result.training[:, 1], size=9,
                                    pen=pg.mkPen(*DATA_COLOR, width=1.5), brush=None))
    plot.addItem(pg.ScatterPlotItem(result.ideal[:, 0], result.ideal[:, 1], size=4, pen=None,
                                    brush=pg.mkBrush(*SAMPLE_COLOR, 200)))


def distance_histograms(result) -> list[tuple[str, tuple, np.ndarray, np.ndarray]]:
    """(label, colour, bin edges, counts) per set, over log₁₀ of the distance (1e−5 … 1)."""
    edges = np.linspace(-5, 0, 41)
    sets = [("ideal", SAMPLE_COLOR, result.ideal_distances),
            ("real", (120, 120, 120), result.real_distances)]
    if result.network_distances is not None:
        sets.append(("MLP", NETWORK_COLOR, result.network_distances))
    out = []
    for label, color, distances in sets:
        logs = np.log10(np.clip(distances, 1e-5, 1.0))
        counts, _ = np.histogram(logs, bins=edges)
        out.append((f"{label}, median {np.median(distances):.1g}", color, edges, counts))
    return out


def draw_distance_histograms(plot: pg.PlotItem, result) -> None:
    clear(plot)
    for label, color, edges, counts in distance_histograms(result):
        plot.addItem(pg.PlotCurveItem(edges, counts, stepMode="center", name=label,
                                      pen=pg.mkPen(*color, width=2)))


def draw_score_error(plot: pg.PlotItem, result) -> None:
    """Log y: the network's error, the loss floor and the network's loss at every t."""
    clear(plot)
    t = result.timesteps.astype(np.float64)
    floor = np.maximum(result.floor, 1e-8)  # log axes: a zero floor would vanish
    plot.plot(t, np.maximum(result.model_error, 1e-8), pen=pg.mkPen(*SAMPLE_COLOR, width=2.5),
              name="network's error ‖ε̂<sub>θ</sub> − ε̂*‖²")
    plot.plot(t, floor, pen=pg.mkPen((90, 90, 90), width=1.5, style=Qt.PenStyle.DashLine),
              name="floor ‖ε − ε̂*‖²")
    plot.plot(t, np.maximum(result.loss, 1e-8), pen=pg.mkPen(*DATA_COLOR, width=1.5),
              name="loss ‖ε − ε̂<sub>θ</sub>‖²")


def lab_lines(result) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """Per sampler: (label with the fitted order, N, error, the fitted c·N⁻ᵖ at N)."""
    lines = []
    for name, order in result.orders.items():
        rows = [(steps, error) for sampler, steps, error in result.rows if sampler == name]
        steps, errors = (np.asarray(values, dtype=np.float64) for values in zip(*rows, strict=True))
        usable = np.isfinite(errors) & (errors > 0)
        fitted = np.full_like(errors, np.nan)
        if np.isfinite(order) and usable.sum() >= 2:
            slope, intercept = np.polyfit(np.log(steps[usable]), np.log(errors[usable]), 1)
            fitted = np.exp(intercept + slope * np.log(steps))
        label = f"{name}: p = {order:.2f}" if np.isfinite(order) else f"{name}: no order"
        lines.append((label, steps, errors, fitted))
    return lines


def draw_lab(plot: pg.PlotItem, result) -> None:
    clear(plot)
    counts = sorted({steps for _, steps, _ in result.rows})
    # Log axes take ticks in log₁₀ units: one labelled tick per N run, no crowded minor ones.
    plot.getAxis("bottom").setTicks([[(float(np.log10(n)), str(n)) for n in counts], []])
    for label, steps, errors, fitted in lab_lines(result):
        color = LAB_COLORS.get(label.split(":")[0], (0, 0, 0))
        keep = errors > 0
        plot.plot(steps[keep], errors[keep], pen=None, symbol="o", symbolSize=8,
                  symbolBrush=pg.mkBrush(*color), symbolPen=pg.mkPen("k"), name=label)
        if np.isfinite(fitted).all():
            plot.plot(steps, fitted, pen=pg.mkPen(*color, width=1.5, style=Qt.PenStyle.DashLine))
