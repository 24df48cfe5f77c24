"""The GUI's numpy closed forms (engine/schedules/closed_form.py) against diffusers'
``DDPMScheduler``, the source of truth: every schedule, T in {10, 100, 1000, 4000}, with and
without the zero-terminal-SNR rescale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.schedules.closed_form import closed_form_curves
from engine.schedules.curves import compute_curves
from engine.schedules.types import SCHEDULE_NAMES, ScheduleSpec

RTOL = 1e-4
# diffusers rescales to zero terminal SNR in float32, and torch's float32 sqrt on the CPU is not
# always correctly rounded (MKL/SLEEF: 1 ulp off for ~20 % of values on AVX-512), so its rescaled
# β = 1 − ᾱ_t/ᾱ_{t−1} carries absolute rounding noise of a few dozen float32 ulps of 1: for the
# smallest β (~1e-4) that is up to ~1e-3 relative, in diffusers' own values, which no numpy
# formula can reproduce to the bit. There the allowance is 1e-4 relative plus this absolute part.
ZERO_SNR_BETA_ATOL = 64 * float(np.finfo(np.float32).eps)

CASES = [(name, steps, zero_snr) for name in SCHEDULE_NAMES for steps in (10, 100, 1000, 4000)
         for zero_snr in (False, True)]


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours - theirs) / np.abs(theirs)))


@pytest.mark.parametrize(("name", "steps", "zero_snr"), CASES,
                         ids=[f"{n}-T{s}{'-zero_snr' if z else ''}" for n, s, z in CASES])
def test_closed_form_matches_diffusers(name, steps, zero_snr):
    spec = ScheduleSpec.preset(name, steps, zero_snr)
    ours, theirs = closed_form_curves(spec), compute_curves(spec)
    assert ours.betas.shape == theirs.betas.shape == (steps,)
    # Zero-SNR makes the final ᾱ exactly 0 in both (and its β exactly 1): compared apart.
    kept = slice(None, -1) if zero_snr else slice(None)
    if zero_snr:
        assert ours.alphas_cumprod[-1] == theirs.alphas_cumprod[-1] == 0
        assert ours.betas[-1] == theirs.betas[-1] == 1
    assert relative_difference(ours.alphas_cumprod[kept], theirs.alphas_cumprod[kept]) <= RTOL
    if zero_snr:
        np.testing.assert_allclose(ours.betas, theirs.betas, rtol=RTOL, atol=ZERO_SNR_BETA_ATOL)
    else:
        assert relative_difference(ours.betas, theirs.betas) <= RTOL


def test_cosine_is_clipped_at_max_beta():
    # With few steps the last cosine β would exceed 0.999: diffusers clips it, and so do we.
    curves = closed_form_curves(ScheduleSpec.preset("cosine", 10))
    assert curves.betas.max() == pytest.approx(0.999, rel=1e-6)


def test_importing_the_closed_forms_never_imports_torch():
    code = ("import sys; import engine.schedules.closed_form as m; "
            "from engine.schedules.types import ScheduleSpec; "
            "m.closed_form_curves(ScheduleSpec.preset('sigmoid', 100, True)); "
            "print(sorted(n for n in ('torch', 'diffusers') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "[]"
