"""The forward page's texts: the readout under the slider, the Markov caption and note."""

from __future__ import annotations

import math

MARKOV_NOTE = (
    "<b>Same distribution, different route.</b> Left: one jump, x<sub>t</sub> = √ᾱ<sub>t</sub>·x₀ + "
    "√(1−ᾱ<sub>t</sub>)·ε. Right: t+1 small steps x<sub>t</sub> = √(1−β<sub>t</sub>)·x<sub>t−1</sub> + "
    "√β<sub>t</sub>·ε<sub>t</sub>, each with fresh noise. Independent Gaussian steps add up to one "
    "Gaussian, so both are samples of N(√ᾱ<sub>t</sub>·x₀, (1−ᾱ<sub>t</sub>)·I): the grain differs, "
    "the histograms match. That is why training can jump straight to any t.")


def readout_text(t: int, num_timesteps: int, signal: float, noise: float, snr: str,
                 log_snr: str) -> str:
    return (f"t = {t} of {num_timesteps}  ·  signal √ᾱₜ = {signal:.4f}  ·  noise √(1−ᾱₜ) = "
            f"{noise:.4f}  ·  SNR = {snr}  ·  log-SNR = {log_snr}")


# The widest readouts there can be: the readout keeps room for them, so nothing is cut off.
READOUT_SAMPLES = (readout_text(99_998, 99_999, 0.0001, 0.9999, "1.234e-05", "−11.302"),
                   readout_text(0, 100_000, 0.9999, 0.0100, "9997.341", "+9.210"))


def markov_caption(stride: int, kept_t: int) -> str:
    kept = "every step kept" if stride == 1 else f"1 frame per {stride} steps kept"
    return f"xₜ (Markov chain)\n{kept} · showing t = {kept_t}"


MARKOV_CAPTION_SAMPLES = (markov_caption(100, 99_999),)


def format_snr(alpha_bar: float) -> tuple[str, str]:
    if alpha_bar >= 1.0:
        return "∞", "∞"
    if alpha_bar <= 0.0:
        return "0", "−∞"
    snr = alpha_bar / (1.0 - alpha_bar)
    snr_text = f"{snr:.3e}" if snr < 1e-2 or snr >= 1e4 else f"{snr:.3f}"
    return snr_text, f"{math.log(alpha_bar) - math.log1p(-alpha_bar):+.3f}"
