"""What the 2D toy's plots and readouts show, computed from results: colours, the SDE paths,
trails, score arrows, the smoothed loss and the sentences beside them. No widgets are made here."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.toy2d.types import OBJECTIVES

DATA_COLOR = (0, 114, 178)  # Okabe–Ito blue
SAMPLE_COLOR = (213, 94, 0)  # Okabe–Ito vermillion
TRAIL_COLOR = (0, 158, 115, 190)


def on_device(device: str) -> str:
    """" on cuda" when the engine said where a run ran, else "" (older engines do not say)."""
    return f" on {device}" if device else ""


def error_text(text: str) -> str:
    return f"<span style='color:#b00020'>{text}</span>"


def draw_paths(plot: pg.PlotItem, result) -> None:
    """The SDE view: the first coordinate of a few points at every t, and x_t's ±2σ band."""
    for item in list(plot.listDataItems()):
        plot.removeItem(item)
    steps = np.arange(len(result.alphas_cumprod))
    start = result.data[: result.path_values.shape[1], 0]
    for index in range(result.path_values.shape[1]):
        plot.plot(np.concatenate([[-1], steps]),
                  np.concatenate([[start[index]], result.path_values[:, index]]),
                  pen=pg.mkPen(*pg.intColor(index, 16).getRgb()[:3], 150))
    # ±2 standard deviations of x_t: ᾱ·Var(x_0) + (1 − ᾱ), flat for unit-variance data.
    spread = 2 * np.sqrt(result.alphas_cumprod * result.data[:, 0].var()
                         + 1 - result.alphas_cumprod)
    for sign in (1, -1):
        plot.plot(steps, sign * spread, pen=pg.mkPen("k", width=1.5, style=Qt.PenStyle.DashLine))


def forward_readout(t: int, alphas_cumprod: np.ndarray, custom: bool) -> str:
    if t < 0:
        return ("x<sub>0</sub>: your drawing, normalised" if custom
                else "x<sub>0</sub>: the data (before t = 0)")
    alpha_bar = float(alphas_cumprod[t])
    return (f"t = {t}: √ᾱ = {math.sqrt(alpha_bar):.3f}, "
            f"σ = √(1−ᾱ) = {math.sqrt(1 - alpha_bar):.3f}")


def reverse_readout(index: int, last: int, t: int) -> str:
    return f"frame {index}/{last}: " + ("x<sub>0</sub>, the samples" if t < 0 else
                                        f"x<sub>t</sub> before step t = {t}")


def trail_line(trajectory: np.ndarray, index: int, trails: int) -> np.ndarray:
    """The paths of the first ``trails`` points up to frame ``index`` as one (n, 2) polyline:
    NaN rows break it between points (draw with connect="finite")."""
    paths = trajectory[: index + 1, :trails]  # (frames, trails, 2)
    padded = np.concatenate([paths, np.full((1, trails, 2), np.nan)], axis=0)
    return padded.transpose(1, 0, 2).reshape(-1, 2)


def field_arrows(result) -> tuple[np.ndarray, np.ndarray]:
    """Arrow positions and vectors for a FieldResult. Arrows point along the score −ε̂/σ; their
    length shows |ε̂| (bounded, unlike the score, which grows like 1/σ as t → 0), at most ~0.9
    of the grid spacing."""
    spacing = 2 * result.positions[:, 0].max() / (math.isqrt(len(result.positions)) - 1)
    vectors = -result.epsilon * (0.4 * spacing)
    length = np.hypot(vectors[:, 0], vectors[:, 1])
    vectors *= np.minimum(1.0, 0.8 * spacing / np.maximum(length, 1e-9))[:, None]
    return result.positions, vectors


def smoothed(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A running mean over ~1/10 of the curve (at most 200 steps): (steps, means)."""
    count = len(losses)
    steps = np.arange(1, count + 1)
    window = max(1, min(200, count // 10))
    cumulative = np.cumsum(np.concatenate([[0.0], losses.astype(np.float64)]))
    return steps[window - 1:], (cumulative[window:] - cumulative[:-window]) / window


def quality_text(result) -> str:
    q = result.quality
    device = getattr(result, "device", "")
    memorised = ""
    if getattr(result, "training_nn", None) is not None:
        samples, fresh = result.training_nn
        memorised = (f"<br>nearest training point: <b>{samples:.4f}</b> &nbsp;(fresh real: "
                     f"{fresh:.4f}): the ideal denoiser gives back its training points")
    return (f"<b>Quality</b> ({result.sampler.upper()}, {result.num_inference_steps} steps, "
            f"{len(result.real)} points{on_device(device)})<br>"
            f"MMD²: <b>{q.mmd:.4f}</b> &nbsp;(real vs real: {q.mmd_real_reference:.4f})<br>"
            f"mean NN distance: <b>{q.nn_distance:.3f}</b> &nbsp;(real: "
            f"{q.nn_distance_real_reference:.3f}){memorised}<br><small>Lower is better; the real-vs-real "
            "figure is what a perfect model would get with this many points.</small>"
            + (f"<br><small>{result.start_note}</small>" if result.start_note else ""))


def model_caption(model) -> tuple[str, str]:
    """The model label and its tooltip: the model samples with the schedule it was trained
    with, whatever the Noise schedules tab shares now."""
    if model is None:
        return "none yet", ""
    schedule = model.schedule
    named = f"{schedule.name}{' zero-SNR' if schedule.rescale_zero_snr else ''}"
    # ε as before; another objective takes T's place (in the tooltip), so the caption keeps
    # its two lines.
    path = (f"{named}, T={schedule.num_train_timesteps}" if model.objective == "eps" else
            "flow matching" if model.objective == "flow" else f"{model.objective} · {named}")
    return (f"{path} · {model.steps_trained} steps · {model.dataset.label}",
            f"Trained {model.steps_trained} steps ({OBJECTIVES[model.objective]}) on "
            f"{model.dataset.label} with the schedule "
            f"{schedule.label}, which sampling uses whatever the Noise schedules tab shows now")
