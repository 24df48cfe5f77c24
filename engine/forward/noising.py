"""The forward (noising) process: engine jobs for the forward page and the ``forward`` command.

The closed form x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε needs only x₀, one ε and ᾱ, so the job returns those
and the GUI evaluates any t with numpy (engine/forward/frames.py). The Markov chain has no such
shortcut: it is run here, step by step, and its frames are kept for scrubbing.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from engine.forward.frames import (
    HISTOGRAM_CENTRES,
    histogram_density,
    sample_indices,
)
from engine.forward.types import (
    IMAGE_SOURCES,
    ForwardRequest,
    ForwardResult,
    LoadImageRequest,
    MarkovRequest,
    MarkovResult,
)
from engine.images import LoadedImage, load_image_file, to_uint8, to_unit_range
from engine.spectrum import SpectrumParts

# The Markov chain draws its per-step noise from a stream separate from the closed form's ε.
MARKOV_SEED_OFFSET = 1_000_003


def run_load_image_job(request: LoadImageRequest, reporter) -> LoadedImage:
    reporter.progress(0, 1, "loading image")
    if request.path is not None:
        loaded = load_image_file(request.path, request.working_size, request.grayscale)
    else:
        module_name, function_name = IMAGE_SOURCES[request.source_key][1].split(":")
        loader = getattr(importlib.import_module(module_name), function_name)
        loaded = loader(request.working_size, request.grayscale)
    reporter.progress(1, 1, loaded.source)
    return loaded


def make_noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """ε ~ N(0, I) of ``shape`` from torch's seeded generator (same ε in GUI and CLI)."""
    from engine.runtime import import_torch

    torch = import_torch()
    generator = torch.Generator().manual_seed(int(seed))
    return torch.randn(shape, generator=generator, dtype=torch.float32).numpy()


def run_forward_job(request: ForwardRequest, reporter) -> ForwardResult:
    from engine.samplers.builder import noise_schedule

    reporter.progress(0, 3, "schedule")
    betas, alphas_cumprod = noise_schedule(request.spec.diffusers_config())
    reporter.check_cancelled()
    reporter.progress(1, 3, "noise")
    noise = make_noise(request.image.shape, request.seed)
    x0 = to_unit_range(request.image)
    reporter.progress(2, 3, "spectra")
    # HxWxC → CxHxW: one spectrum per channel, averaged (none for an image 1 pixel thin).
    spectrum = (SpectrumParts.of(np.moveaxis(x0, 2, 0), np.moveaxis(noise, 2, 0))
                if min(x0.shape[:2]) >= 2 else None)
    reporter.progress(3, 3, "done")
    return ForwardResult(
        spec=request.spec,
        seed=request.seed,
        x0=x0,
        noise=noise,
        betas=betas,
        alphas_cumprod=alphas_cumprod,
        spectrum=spectrum,
    )


def markov_stride(num_timesteps: int, frame_bytes: int, memory_budget: int) -> int:
    """Keep every step if all T frames fit the budget, else every k-th (the smallest k that fits).

    Frames are kept at full working resolution as uint8 display pixels (the view shows nothing
    finer), and each kept frame's histogram is computed here from the float values. A 512×512
    RGB frame is 0.75 MB, so T = 1000 in 256 MB keeps every 3rd step; a 256×256 image, every step.
    A coarser time grid was preferred over a smaller image because the point of the comparison
    is the texture of the noise next to the closed form's, at the same size.
    """
    fit = max(1, memory_budget // max(1, frame_bytes))
    return max(1, math.ceil(num_timesteps / fit))


def markov_chain(x0: np.ndarray, betas: np.ndarray, seed: int):
    """Yield (t, x_t) for t = 0 … T−1, x_t = √(1−β_t)·x_{t−1} + √β_t·ε_t with x_{−1} = x₀.

    x_t is a float32 numpy view of one buffer updated in place: copy what you keep. This is the
    chain's definition written out (diffusers has no single forward-step function to call).
    """
    from engine.runtime import import_torch

    torch = import_torch()
    x = torch.from_numpy(np.array(x0, dtype=np.float32))
    step_noise = torch.empty_like(x)
    generator = torch.Generator().manual_seed(int(seed) + MARKOV_SEED_OFFSET)
    for t, beta in enumerate(np.asarray(betas, dtype=np.float64)):
        torch.randn(x.shape, generator=generator, out=step_noise)
        x.mul_(math.sqrt(1.0 - beta)).add_(step_noise, alpha=math.sqrt(beta))
        yield t, x.numpy()


def run_markov_job(request: MarkovRequest, reporter) -> MarkovResult:
    from engine.samplers.builder import noise_schedule

    betas = noise_schedule(request.spec.diffusers_config())[0]
    total = len(betas)
    stride = markov_stride(total, request.image.size, request.memory_budget)
    kept = sorted(set(range(0, total, stride)) | {total - 1})
    frames = np.empty((len(kept), *request.image.shape), dtype=np.uint8)
    histograms = np.empty((len(kept), len(HISTOGRAM_CENTRES)), dtype=np.float32)
    picks = sample_indices(request.image.size)
    keep_index = 0
    reporter.restart_clock()
    for t, values in markov_chain(to_unit_range(request.image), betas, request.seed):
        reporter.check_cancelled()
        if keep_index < len(kept) and kept[keep_index] == t:
            frames[keep_index] = to_uint8(values)
            histograms[keep_index] = histogram_density(values.reshape(-1)[picks])
            keep_index += 1
        reporter.progress(t + 1, total, "Markov chain")
    return MarkovResult(
        spec=request.spec,
        seed=request.seed,
        stride=stride,
        timesteps=np.asarray(kept),
        frames=frames,
        histograms=histograms,
    )
