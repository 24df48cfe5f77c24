"""Slerp of initial noises (engine.samplers.noise): exact endpoints, the norm kept."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from engine.samplers.noise import seeded_noise, slerp, variation_noise  # noqa: E402


def noises(shape=(3, 4, 32, 32)):
    return seeded_noise(1, shape)[0], seeded_noise(2, shape)[0]


def test_endpoints_are_exact_copies():
    a, b = noises()
    assert torch.equal(slerp(a, b, 0.0), a) and torch.equal(slerp(a, b, 1), b)
    assert slerp(a, b, 0.0) is not a  # a copy: the caller may change it


@pytest.mark.parametrize("t", [0.1, 0.25, 0.5, 0.9])
def test_slerp_keeps_the_norm_of_independent_gaussian_noise(t):
    a, b = noises()
    mixed = slerp(a, b, t)
    for index in range(a.shape[0]):  # each sample of the batch is one vector
        norms = [x[index].norm().item() for x in (a, b, mixed)]
        # Interpolated norm lies between the two ends' (the great circle between them).
        assert min(norms[:2]) * 0.99 <= norms[2] <= max(norms[:2]) * 1.01
    # Whereas lerp shrinks it to about 1/√2 in the middle: the reason for slerp.
    assert torch.lerp(a, b, 0.5)[0].norm() < 0.75 * a[0].norm()


def test_slerp_of_unit_vectors_is_on_the_circle_and_angles_split_evenly():
    a = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    mid = slerp(a, b, 1 / 3)
    assert torch.allclose(mid, torch.tensor([[3**0.5 / 2, 0.5]], dtype=torch.float64))


def test_nearly_parallel_noises_fall_back_to_lerp_without_nan():
    a, _ = noises((1, 64))
    mixed = slerp(a, a * 1.0000001, 0.5)
    assert torch.isfinite(mixed).all() and torch.allclose(mixed, a)


def test_variation_noise_at_strength_zero_is_the_seed_noise_itself():
    a, b = noises((2, 1, 16, 16))
    assert variation_noise(a, 2, 0.0) is a and variation_noise(a, None, 0.7) is a
    assert torch.equal(variation_noise(a, 2, 1.0), b)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="same shape"):
        slerp(torch.zeros(2, 3), torch.zeros(3, 2), 0.5)
