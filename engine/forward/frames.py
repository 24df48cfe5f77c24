"""x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε for any t, with numpy only, into preallocated buffers.

The GUI thread scrubs with this: no torch round trip per frame. It is the same formula as
diffusers' ``DDPMScheduler.add_noise`` (tests/engine/test_forward.py checks that both agree),
evaluated on arrays the engine computed once. Torch-free on purpose.
"""

from __future__ import annotations

import sys

import numpy as np

from engine.images import to_uint8

# Histogram of x_t values: fixed bins wide enough for x₀ ∈ [−1, 1] plus N(0, 1) noise.
HISTOGRAM_EDGES = np.linspace(-4.0, 4.0, 97)
HISTOGRAM_CENTRES = 0.5 * (HISTOGRAM_EDGES[:-1] + HISTOGRAM_EDGES[1:])
# Histograms are taken over a fixed random subsample of this many values: the shape is exact
# enough, and for a 512×512 RGB image 24× cheaper than all its values.
HISTOGRAM_SAMPLES = 32_768
# Byte offsets of R, G, B in one Format_RGB32 pixel (a native-endian 0xFFRRGGBB word).
_RGB32_OFFSETS = (2, 1, 0) if sys.byteorder == "little" else (1, 2, 3)


def evenly_spaced_timesteps(num_timesteps: int, count: int) -> list[int]:
    """``count`` distinct timesteps from 0 to T−1 inclusive (as engine.schedules.curves.strip_timesteps)."""
    count = max(1, min(count, num_timesteps))
    if count == 1:
        return [num_timesteps - 1]
    return [int(round(x)) for x in np.linspace(0, num_timesteps - 1, count)]


def sample_indices(size: int, count: int = HISTOGRAM_SAMPLES, seed: int = 1234) -> np.ndarray:
    if size <= count:
        return np.arange(size)
    return np.sort(np.random.default_rng(seed).choice(size, count, replace=False))


def histogram_density(values: np.ndarray) -> np.ndarray:
    """Density over HISTOGRAM_EDGES (values beyond the edges count in the outer bins)."""
    bins = len(HISTOGRAM_EDGES) - 1
    low, width = HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[1] - HISTOGRAM_EDGES[0]
    index = ((values - low) * (1.0 / width)).astype(np.int32)
    np.clip(index, 0, bins - 1, out=index)
    counts = np.bincount(index, minlength=bins)
    return (counts / (max(values.size, 1) * width)).astype(np.float32)


def fitted_size(image_size: tuple[int, int], view_size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) of the image scaled into the view with its aspect kept, never above its own size."""
    (image_w, image_h), (view_w, view_h) = image_size, view_size
    if view_w <= 0 or view_h <= 0:
        return image_w, image_h
    scale = min(1.0, view_w / image_w, view_h / image_h)
    return max(1, round(image_w * scale)), max(1, round(image_h * scale))


class FrameRenderer:
    """Renders x_t as display pixels into one reused buffer.

    ``buffer`` is HxWx4 uint8 laid out as Qt's Format_RGB32 (B, G, R, 255 on little-endian
    machines): the format Qt paints without converting (RGB888 costs ~2 ms more per paint).
    """

    def __init__(self, x0: np.ndarray, noise: np.ndarray, alphas_cumprod: np.ndarray,
                 display_size: tuple[int, int] | None = None):
        if x0.shape != noise.shape or x0.ndim != 3:
            raise ValueError(f"x0 {x0.shape} and noise {noise.shape} must both be HxWxC")
        self.x0 = x0
        self.noise = noise
        self.alphas_cumprod = np.asarray(alphas_cumprod, dtype=np.float64)
        self.sqrt_alpha_bar = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alpha_bar = np.sqrt(1.0 - self.alphas_cumprod)
        self.channels = x0.shape[2]
        picks = sample_indices(x0.size)
        self._x0_sample = x0.reshape(-1)[picks].copy()
        self._noise_sample = noise.reshape(-1)[picks].copy()
        self.display_size: tuple[int, int] | None = None
        self.set_display_size(*(display_size or (x0.shape[1], x0.shape[0])))

    def set_display_size(self, width: int, height: int) -> None:
        """Render at most ``width``×``height`` pixels (aspect kept; a new ``buffer``).

        A view that shows a 1024 px image in 540 screen pixels samples it nearest-neighbour
        anyway; picking those pixels once here makes every frame a quarter of the work and
        the paint a 1:1 copy. Never more than the image's own pixels.
        """
        image_h, image_w = self.x0.shape[:2]
        size = fitted_size((image_w, image_h), (width, height))
        if size == self.display_size:
            return
        self.display_size = size
        if size == (image_w, image_h):
            x0, noise = self.x0, self.noise
        else:  # nearest-neighbour picks, the same sampling Qt's fast scaling does
            rows = ((np.arange(size[1]) + 0.5) * image_h / size[1]).astype(np.intp)
            cols = ((np.arange(size[0]) + 0.5) * image_w / size[0]).astype(np.intp)
            x0, noise = self.x0[rows][:, cols], self.noise[rows][:, cols]
        height, width = x0.shape[:2]
        # Pixel = round((x + 1)·127.5) = trunc(127.5·x + 128) after clipping, so the scaling
        # is folded into the two inputs once and a frame costs two multiplies, two adds, a clip
        # and a cast. Planar (C, H, W) layout keeps every pass contiguous; interleaving into the
        # RGB32 buffer is one copy per channel (a strided 3-channel copy is several times slower).
        self._x0_scaled = np.ascontiguousarray(np.moveaxis(x0, 2, 0) * np.float32(127.5))
        self._noise_scaled = np.ascontiguousarray(np.moveaxis(noise, 2, 0) * np.float32(127.5))
        self._work = np.empty_like(self._x0_scaled)
        self._work2 = np.empty_like(self._x0_scaled)
        self._planes = np.empty(self._work.shape, dtype=np.uint8)
        self.buffer = np.full((height, width, 4), 255, dtype=np.uint8)

    @property
    def num_timesteps(self) -> int:
        return len(self.alphas_cumprod)

    def coefficients(self, t: int) -> tuple[float, float]:
        return float(self.sqrt_alpha_bar[t]), float(self.sqrt_one_minus_alpha_bar[t])

    def values(self, t: int) -> np.ndarray:
        """x_t as a new float32 array (for exports and tests; the view uses ``render``)."""
        a, b = self.coefficients(t)
        return (np.float32(a) * self.x0 + np.float32(b) * self.noise).astype(np.float32)

    def render(self, t: int) -> np.ndarray:
        """x_t as display pixels in ``buffer`` (returned), at ``display_size``."""
        a, b = self.coefficients(t)
        work, work2 = self._work, self._work2
        np.multiply(self._x0_scaled, np.float32(a), out=work)
        np.multiply(self._noise_scaled, np.float32(b), out=work2)
        np.add(work, work2, out=work)
        np.add(work, np.float32(128.0), out=work)
        np.clip(work, np.float32(0.0), np.float32(255.5), out=work)
        np.copyto(self._planes, work, casting="unsafe")  # float → uint8 truncates
        buffer, planes = self.buffer, self._planes
        r, g, b = _RGB32_OFFSETS
        if self.channels == 3:
            buffer[:, :, r], buffer[:, :, g], buffer[:, :, b] = planes
        else:
            buffer[:, :, r] = buffer[:, :, g] = buffer[:, :, b] = planes[0]
        return self.buffer

    def pixels(self, t: int) -> np.ndarray:
        """x_t as an HxWxC uint8 copy in RGB order (for exports)."""
        return to_uint8(self.values(t))

    def histogram(self, t: int) -> np.ndarray:
        a, b = self.coefficients(t)
        return histogram_density(np.float32(a) * self._x0_sample + np.float32(b) * self._noise_sample)
