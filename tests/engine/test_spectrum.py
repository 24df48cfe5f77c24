"""Radially averaged power spectra: white noise is flat at σ², a sinusoid peaks at its radius,
and x_t's spectrum from the precomputed parts equals a direct FFT at any t."""

from __future__ import annotations

import numpy as np
import pytest

from engine.spectrum import SpectrumParts, drowned_frequency, radial_bins, radial_power_spectrum


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0])
def test_white_noise_is_flat_at_its_variance(sigma):
    noise = np.random.default_rng(0).normal(0.0, sigma, (64, 128, 128))
    spectrum = radial_power_spectrum(noise)
    power = spectrum.power.mean(axis=0)
    assert spectrum.frequencies[0] == pytest.approx(1 / 128)
    assert spectrum.frequencies[-1] == pytest.approx(0.5)
    # Flat: every ring within a few per cent of σ² (64 images average the scatter away)…
    np.testing.assert_allclose(power, sigma**2, rtol=0.06)
    # …with no trend from low to high frequencies.
    slope = np.polyfit(np.log(spectrum.frequencies), np.log(power), 1)[0]
    assert abs(slope) < 0.02


def test_noise_power_scales_with_variance():
    base = np.random.default_rng(1).normal(size=(8, 64, 64))
    one = radial_power_spectrum(base).power
    np.testing.assert_allclose(radial_power_spectrum(2.5 * base).power, 6.25 * one, rtol=1e-12)


def test_parseval_mean_power_is_mean_square():
    image = np.random.default_rng(2).normal(size=(32, 32))
    full = np.abs(np.fft.fft2(image)) ** 2 / image.size
    assert full.mean() == pytest.approx((image**2).mean())


@pytest.mark.parametrize(("height", "width", "cycles_y", "cycles_x", "radius"), [
    (64, 64, 0, 5, 5 / 64), (64, 64, 12, 16, 20 / 64),  # along an axis; a diagonal (3-4-5)
    (64, 64, 32, 0, 0.5),  # at Nyquist
    (48, 80, 12, 0, 0.25), (48, 80, 0, 20, 0.25)])  # not square: rings of width 1/48
def test_a_sinusoid_peaks_at_its_radius(height, width, cycles_y, cycles_x, radius):
    y, x = np.mgrid[:height, :width]
    image = np.cos(2 * np.pi * (cycles_y * y / height + cycles_x * x / width))
    spectrum = radial_power_spectrum(image)
    peak = int(np.argmax(spectrum.power))
    assert spectrum.frequencies[peak] == pytest.approx(radius)
    assert spectrum.power[peak] > 1e6 * np.delete(spectrum.power, peak).max()


def test_rings_cover_every_frequency_up_to_nyquist_once():
    bins = radial_bins(48, 80)
    assert bins.counts.min() > 0
    assert len(bins.frequencies) == 24
    assert bins.counts.sum() == (bins.ring < len(bins.counts)).sum()


def test_mixed_parts_equal_a_direct_fft():
    rng = np.random.default_rng(3)
    y, x = np.mgrid[:40, :56]
    x0 = np.stack([np.cos(x / 3.0) * np.sin(y / 5.0), np.tanh((x - 28) / 4.0),
                   rng.uniform(-1, 1, (40, 56))])
    noise = rng.normal(size=x0.shape)
    parts = SpectrumParts.of(x0, noise)
    for alpha_bar in (0.999, 0.5, 0.01):
        a, b = np.sqrt(alpha_bar), np.sqrt(1 - alpha_bar)
        direct = radial_power_spectrum(a * x0 + b * noise).power.mean(axis=0)
        np.testing.assert_allclose(parts.mixed(a, b), direct, rtol=1e-10)
    np.testing.assert_allclose(parts.mixed(1.0, 0.0), radial_power_spectrum(x0).power.mean(0))
    with pytest.raises(ValueError, match="differ in shape"):
        SpectrumParts.of(x0, noise[:, 1:])


def test_drowned_frequency():
    freqs = np.array([0.1, 0.2, 0.3, 0.4])
    assert drowned_frequency(np.array([10.0, 1.0, 0.1, 0.01]), 0.5, freqs) == 0.3
    assert drowned_frequency(np.array([10.0, 1.0, 0.9, 0.8]), 0.5, freqs) is None
    assert drowned_frequency(np.array([0.1, 0.1, 0.1, 0.1]), 0.5, freqs) == 0.1


def test_too_small_an_image_is_refused():
    with pytest.raises(ValueError, match="no spatial frequencies"):
        radial_power_spectrum(np.zeros((1, 8)))
