"""Initial noise shared by every model (core): spherical interpolation (slerp) between noises.

Latent walks (a path of frames between two seeds) and AUTOMATIC1111's "variation seed" both mix
two Gaussian noises. A straight line between them (lerp) shrinks the norm in the middle: two
independent N(0, I) vectors of dimension d both have norm ≈ √d and are nearly orthogonal, so
their midpoint has norm ≈ √(d/2) and the sampler sees noise that is too weak (a washed-out,
blurry image). Slerp moves along the great circle instead and keeps the norm:

    slerp(a, b, t) = sin((1−t)·Ω)/sin Ω · a + sin(t·Ω)/sin Ω · b,   cos Ω = â·b̂

Neither torch nor diffusers offers slerp (``torch.lerp`` is linear; diffusers' community
pipelines each carry their own copy), so it is written here, once, for the digits model and
Stable Diffusion alike. Each sample of a batch (the first dimension) is one vector. Torch is
imported only inside the functions.
"""

from __future__ import annotations

# Nearly parallel vectors (cos Ω above this): sin Ω ≈ 0, so lerp is used (it equals slerp there).
PARALLEL_DOT = 0.9995


def slerp(low, high, t: float):
    """The point at fraction ``t`` (0 … 1) on the great circle from ``low`` to ``high``
    (torch tensors of equal shape; each entry of the first dimension is one vector).

    The endpoints are exact: ``t == 0`` returns ``low`` and ``t == 1`` returns ``high``
    bit for bit (a copy), so a walk's first and last frames are the single-seed images.
    Computed in float64, returned in ``low``'s dtype.
    """
    import torch

    if low.shape != high.shape:
        raise ValueError(f"slerp needs noises of the same shape, got {tuple(low.shape)} "
                         f"and {tuple(high.shape)}")
    t = float(t)
    if t == 0.0:
        return low.clone()
    if t == 1.0:
        return high.to(low.dtype).clone()
    batch = low.shape[0] if low.dim() > 1 else 1
    a = low.reshape(batch, -1).to(torch.float64)
    b = high.reshape(batch, -1).to(torch.float64)
    a_norm = a / a.norm(dim=1, keepdim=True).clamp_min(1e-30)
    b_norm = b / b.norm(dim=1, keepdim=True).clamp_min(1e-30)
    dot = (a_norm * b_norm).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(dot)
    sin_omega = torch.sin(omega)
    parallel = dot > PARALLEL_DOT
    safe = torch.where(parallel, torch.ones_like(sin_omega), sin_omega)
    weight_low = torch.where(parallel, torch.full_like(dot, 1.0 - t), torch.sin((1.0 - t) * omega) / safe)
    weight_high = torch.where(parallel, torch.full_like(dot, t), torch.sin(t * omega) / safe)
    mixed = weight_low * a + weight_high * b
    return mixed.reshape(low.shape).to(low.dtype)


def seeded_noise(seed: int, shape, generator=None):
    """N(0, I) noise of ``shape`` drawn on the CPU from ``seed`` (the same on every device),
    with the generator that continues the stream (a stochastic sampler's per-step noise)."""
    import torch

    generator = generator if generator is not None else torch.Generator()
    generator.manual_seed(int(seed))
    return torch.randn(tuple(shape), generator=generator), generator


def variation_noise(noise, variation_seed: int | None, strength: float):
    """AUTOMATIC1111's variation seed: slerp from ``noise`` (the seed's) towards the noise of
    ``variation_seed`` by ``strength`` (0: the seed's noise exactly, 1: the variation seed's).
    ``noise`` unchanged when there is no variation seed or the strength is 0."""
    if variation_seed is None or strength == 0.0:
        return noise
    other, _ = seeded_noise(variation_seed, noise.shape)
    return slerp(noise, other.to(noise.device), strength)
