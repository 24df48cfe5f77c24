"""Radially averaged power spectra of images: numpy only, torch-free (the GUI calls it directly).

P(f) = |FFT(x)|² / (H·W), averaged over rings of equal spatial frequency |f| (cycles per pixel).
With this normalisation white noise of variance σ² has E[P(f)] = σ² at every f (a flat line) and
the mean of P over all frequencies is the mean of x² (Parseval). Natural images fall off roughly
as a power law, 1/f²: which is why Gaussian noise, flat, drowns their high frequencies first
(Dieleman 2024, "Diffusion is spectral autoregression").

Neither numpy nor scipy nor scikit-image has a radially averaged spectrum as one call, so the ring
average is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class RadialBins:
    """Rings of the 2-D frequency plane of an H×W image: ring k holds the frequencies whose
    radius, times L = min(H, W), rounds to k (k = 1 … L//2; the mean at f = 0 and the corners
    beyond Nyquist are left out)."""

    frequencies: np.ndarray  # (K,) ring centres k/L, cycles per pixel
    ring: np.ndarray  # (H·W,) ring index of each FFT coefficient (numpy's order), K = outside
    counts: np.ndarray  # (K,) coefficients per ring


@lru_cache(maxsize=16)
def radial_bins(height: int, width: int) -> RadialBins:
    if min(height, width) < 2:
        raise ValueError(f"an image of {width}×{height} pixels has no spatial frequencies")
    side = min(height, width)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    index = np.rint(np.hypot(fy, fx) * side).astype(np.intp).reshape(-1)
    count = side // 2
    # Rings 1 … L//2 become 0 … K−1; the mean (ring 0) and the corners go to K, dropped later.
    ring = np.where((index >= 1) & (index <= count), index - 1, count)
    counts = np.bincount(ring, minlength=count + 1)[:count]
    return RadialBins(np.arange(1, count + 1) / side, ring, counts)


def _ring_mean(values: np.ndarray, bins: RadialBins) -> np.ndarray:
    """(…, H, W) real values → (…, K) their mean over each ring."""
    lead = values.shape[:-2]
    flat = values.reshape(-1, values.shape[-2] * values.shape[-1])
    rows, count = flat.shape[0], len(bins.counts)
    # One bincount for all images: image i's rings are numbered i·(K+1) … i·(K+1) + K.
    index = (np.arange(rows)[:, None] * (count + 1) + bins.ring[None, :]).reshape(-1)
    sums = np.bincount(index, weights=flat.reshape(-1), minlength=rows * (count + 1))
    return (sums.reshape(rows, count + 1)[:, :count] / bins.counts).reshape(*lead, count)


def _fft(images: np.ndarray) -> np.ndarray:
    return np.fft.fft2(np.asarray(images, dtype=np.float64), axes=(-2, -1))


@dataclass(frozen=True)
class RadialSpectrum:
    frequencies: np.ndarray  # (K,) cycles per pixel
    power: np.ndarray  # (…, K)


def radial_power_spectrum(images: np.ndarray) -> RadialSpectrum:
    """The radially averaged power spectrum of each image in ``images`` (…, H, W)."""
    images = np.asarray(images)
    bins = radial_bins(*images.shape[-2:])
    power = np.abs(_fft(images)) ** 2 / (images.shape[-2] * images.shape[-1])
    return RadialSpectrum(bins.frequencies, _ring_mean(power, bins))


@dataclass(frozen=True)
class SpectrumParts:
    """The spectra needed to give x = a·x₀ + b·ε's spectrum at any (a, b) without another FFT:
    |a·X₀ + b·E|² = a²|X₀|² + b²|E|² + 2ab·Re(X₀·Ē), each term ring-averaged once. The forward
    page scrubs t with this (a = √ᾱ_t, b = √(1−ᾱ_t)): exact, and free per frame."""

    frequencies: np.ndarray  # (K,)
    signal: np.ndarray  # (K,) spectrum of x₀ (averaged over channels)
    noise: np.ndarray  # (K,) spectrum of ε
    cross: np.ndarray  # (K,) ring average of Re(X₀·Ē)/(H·W)

    @classmethod
    def of(cls, x0: np.ndarray, noise: np.ndarray) -> SpectrumParts:
        """``x0`` and ``noise``: (…, H, W) arrays of one shape (e.g. C×H×W); the leading axes are
        averaged over."""
        if np.shape(x0) != np.shape(noise):
            raise ValueError(f"x0 {np.shape(x0)} and noise {np.shape(noise)} differ in shape")
        height, width = np.shape(x0)[-2:]
        bins = radial_bins(height, width)
        pixels = height * width
        spectrum_x0, spectrum_noise = _fft(x0), _fft(noise)

        def ring(values):
            mean = _ring_mean(values / pixels, bins)
            return mean.reshape(-1, mean.shape[-1]).mean(axis=0)

        return cls(bins.frequencies, ring(np.abs(spectrum_x0) ** 2),
                   ring(np.abs(spectrum_noise) ** 2),
                   ring((spectrum_x0 * spectrum_noise.conj()).real))

    def mixed(self, a: float, b: float) -> np.ndarray:
        """The spectrum of a·x₀ + b·ε."""
        return a * a * self.signal + b * b * self.noise + 2.0 * a * b * self.cross


def drowned_frequency(signal_power: np.ndarray, noise_level: float,
                      frequencies: np.ndarray) -> float | None:
    """The lowest frequency from which on the signal's power stays below ``noise_level`` (the
    flat noise floor): the detail the noise has drowned. None when nothing is drowned; the lowest
    frequency shown when everything is."""
    above = np.nonzero(signal_power >= noise_level)[0]
    if len(above) == 0:
        return float(frequencies[0])
    last = above[-1]
    return None if last == len(frequencies) - 1 else float(frequencies[last + 1])
