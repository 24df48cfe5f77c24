"""The forward page's "Digits" image source: a tile of the embedded model's real digits."""

from __future__ import annotations

import numpy as np

from engine.forward.sources import digits_tile
from engine.forward.types import IMAGE_SOURCES, LoadImageRequest
from engine.jobs import run_job
from engine.reporting import Reporter
from resources import resource_path


def test_digits_source_is_listed_and_loads_through_the_job():
    assert "digits" in IMAGE_SOURCES and "training data" in IMAGE_SOURCES["digits"][0]
    loaded = run_job(LoadImageRequest(source_key="digits", working_size=128), Reporter())
    assert loaded.pixels.shape == (128, 128, 3) and loaded.pixels.dtype == np.uint8
    assert "CC BY 4.0" in loaded.source


def test_tile_is_sixteen_real_digits_with_crisp_pixels():
    grey = digits_tile(64, grayscale=True).pixels
    assert grey.shape == (64, 64, 1) and grey.dtype == np.uint8
    with np.load(resource_path("models", "digits", "examples.npz"), allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
    first_zero = images[np.flatnonzero(labels == 0)[0]]
    first_three = images[np.flatnonzero(labels == 3)[0]]
    assert np.array_equal(grey[:16, :16, 0], first_zero)  # at 64 px: one pixel per pixel
    assert np.array_equal(grey[:16, 48:64, 0], first_three)

    big = digits_tile(512, grayscale=False).pixels  # 8× nearest neighbour: 8×8 blocks
    assert big.shape == (512, 512, 3)
    assert np.array_equal(big[::8, ::8, 0], grey[:, :, 0])
    blocks = big[:, :, 0].reshape(64, 8, 64, 8)
    assert (blocks == blocks[:, :1, :, :1]).all()  # no smoothing between pixels
    assert np.array_equal(big[:, :, 0], big[:, :, 1])  # grey digits in RGB
