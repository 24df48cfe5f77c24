"""Noise schedules: the torch-free vocabulary (specs, per-timestep curves, the job's
request and result), shared by every feature that noises with them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The user-facing schedule names and the diffusers ``beta_schedule`` each one maps to.
SCHEDULE_NAMES: dict[str, str] = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "cosine": "squaredcos_cap_v2",
    "sigmoid": "sigmoid",
}

# Sensible β ranges per schedule: DDPM's for linear/sigmoid, Stable Diffusion's for scaled_linear.
# (cosine ignores β_start/β_end: it is defined through ᾱ directly.)
DEFAULT_BETAS: dict[str, tuple[float, float]] = {
    "linear": (1e-4, 0.02),
    "scaled_linear": (0.00085, 0.012),
    "cosine": (1e-4, 0.02),
    "sigmoid": (1e-4, 0.02),
}


@dataclass(frozen=True)
class ScheduleSpec:
    """One noise schedule, as diffusers' scheduler config describes it."""

    name: str = "linear"
    num_train_timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    rescale_zero_snr: bool = False

    def __post_init__(self) -> None:
        if self.name not in SCHEDULE_NAMES:
            raise ValueError(
                f"Unknown schedule {self.name!r}; choose one of {', '.join(SCHEDULE_NAMES)}."
            )
        if not 2 <= self.num_train_timesteps <= 100_000:
            raise ValueError("The number of timesteps T must be between 2 and 100000.")
        if not 0 < self.beta_start < 1 or not 0 < self.beta_end < 1:
            raise ValueError("β_start and β_end must lie strictly between 0 and 1.")
        if self.beta_end < self.beta_start:
            raise ValueError("β_end must not be smaller than β_start.")

    @classmethod
    def preset(cls, name: str, num_train_timesteps: int = 1000, rescale_zero_snr: bool = False):
        beta_start, beta_end = DEFAULT_BETAS[name]
        return cls(name, num_train_timesteps, beta_start, beta_end, rescale_zero_snr)

    @property
    def label(self) -> str:
        text = f"{self.name} (T={self.num_train_timesteps}"
        if self.name != "cosine":
            text += f", β {self.beta_start:g}–{self.beta_end:g}"
        if self.rescale_zero_snr:
            text += ", zero-SNR"
        return text + ")"

    def diffusers_config(self) -> dict:
        return {
            "num_train_timesteps": self.num_train_timesteps,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "beta_schedule": SCHEDULE_NAMES[self.name],
            "rescale_betas_zero_snr": self.rescale_zero_snr,
        }


@dataclass(frozen=True)
class ScheduleCurves:
    """Per-timestep arrays of one schedule, t = 0 … T−1 (float64 for exact readouts)."""

    spec: ScheduleSpec
    betas: np.ndarray
    alphas_cumprod: np.ndarray

    @property
    def timesteps(self) -> np.ndarray:
        return np.arange(len(self.betas))

    @property
    def sqrt_alpha_bar(self) -> np.ndarray:
        return np.sqrt(self.alphas_cumprod)

    @property
    def sqrt_one_minus_alpha_bar(self) -> np.ndarray:
        return np.sqrt(1.0 - self.alphas_cumprod)

    @property
    def log_snr(self) -> np.ndarray:
        """log(ᾱ/(1−ᾱ)); −inf where ᾱ is exactly 0 (zero terminal SNR)."""
        with np.errstate(divide="ignore"):
            return np.log(self.alphas_cumprod) - np.log1p(-self.alphas_cumprod)

    def table(self) -> dict[str, np.ndarray]:
        """The columns of the CSV export, in order."""
        return {
            "t": self.timesteps,
            "beta": self.betas,
            "alpha_bar": self.alphas_cumprod,
            "sqrt_alpha_bar": self.sqrt_alpha_bar,
            "sqrt_one_minus_alpha_bar": self.sqrt_one_minus_alpha_bar,
            "log_snr": self.log_snr,
        }


@dataclass(frozen=True)
class ScheduleRequest:
    """Curves for several schedules, plus one image noised at ``strip_steps`` evenly spaced t."""

    specs: tuple[ScheduleSpec, ...]
    strip_image: np.ndarray | None = field(default=None, compare=False)  # HxWx3 uint8
    strip_steps: int = 10
    seed: int = 0


@dataclass(frozen=True)
class NoisedStrip:
    timesteps: tuple[int, ...]
    images: tuple[np.ndarray, ...]  # HxWx3 uint8 each


@dataclass(frozen=True)
class ScheduleResult:
    curves: tuple[ScheduleCurves, ...]
    strips: tuple[NoisedStrip | None, ...]


JOB_HANDLERS: dict[type, str] = {
    ScheduleRequest: "engine.schedules.curves:run_schedule_job",
}
