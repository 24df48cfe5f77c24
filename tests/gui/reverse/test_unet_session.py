"""The U-Net view's feature-map display arithmetic (no window)."""

from __future__ import annotations

import numpy as np

from playground_gui.tabs.reverse.unet_session import describe, normalised_tiles


def test_tiles_stretch_each_channel_or_the_block_and_never_show_nan():
    maps = np.stack([np.array([[0.0, 1.0], [2.0, 3.0]]), np.full((2, 2), 5.0),
                     np.array([[np.nan, -1.0], [1.0, np.inf]])]).astype(np.float32)
    tiles = normalised_tiles(maps)
    assert tiles.dtype == np.uint8
    assert tiles[0].tolist() == [[0, 85], [170, 255]]  # its own min … max
    assert (tiles[1] == 128).all()  # a constant channel is mid grey
    assert tiles[2].tolist() == [[0, 0], [255, 0]]  # non-finite values black
    shared = normalised_tiles(maps, per_channel=False)
    assert shared[0, 0, 0] == round(1 / 6 * 255) and shared[1, 0, 0] == 255  # one scale: −1 … 5
    assert "2 values not finite" in describe(maps)
    assert describe(maps[:2]) == "2 channels · 2×2 · values 0.00 … 5.00 · mean |value| 3.25"
