"""Inpainting and outpainting keep the input's own pixels outside the (feathered) mask."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from engine.reporting import Reporter
from engine.stable_diffusion.types import DecodeLatentsRequest
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


def _photo(width=64, height=64):
    """A varied input (a gradient with a block), so a flat VAE output cannot match it."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=-1).astype(np.uint8)
    image[8:24, 8:24] = (250, 20, 20)
    return image


def _run(request):
    from engine.stable_diffusion.generation import run_generation

    return run_generation(request, Reporter())


def test_inpaint_keeps_the_input_outside_the_feathered_mask(tiny_folder):
    init = _photo()
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 40:] = 255
    result = _run(tiny_request(tiny_folder, mode="inpaint", init_image=init, mask=mask,
                               mask_feather=3, strength=1.0))
    feathered = np.asarray(Image.fromarray(mask).filter(ImageFilter.GaussianBlur(3)))
    kept = feathered == 0
    assert kept.sum() > 64 * 30
    image = result.images[0].astype(int)
    assert np.abs(image[kept] - init[kept]).max() <= 1  # the input's own pixels
    assert np.abs(image[feathered == 255] - init[feathered == 255]).mean() > 10  # repainted
    assert result.overlay is not None and result.parameters["overlay"] is True

    # The step slider's frames: the final step's latents decode to the same composite.
    last = result.step_latents[0][-1, 0]
    frame = _decode(last, tiny_folder, result.overlay)
    assert np.array_equal(frame, result.images[0])

    # Turned off: the VAE's decode everywhere (the tiny VAE cannot reproduce the input).
    plain = _run(tiny_request(tiny_folder, mode="inpaint", init_image=init, mask=mask,
                              mask_feather=3, strength=1.0, overlay=False))
    assert plain.overlay is None and plain.parameters["overlay"] is False
    assert np.abs(plain.images[0][kept].astype(int) - init[kept]).mean() > 10
    assert np.array_equal(_decode(last, tiny_folder, None), plain.images[0])


def _decode(latents, source, overlay):
    from engine.stable_diffusion.generation import decode_latents_job

    return decode_latents_job(DecodeLatentsRequest(latents, source, CPU, overlay=overlay),
                              Reporter()).image


def test_outpaint_keeps_the_original_canvas(tiny_folder):
    from engine.stable_diffusion.generation import OUTPAINT_OVERLAP

    init = _photo()
    result = _run(tiny_request(tiny_folder, mode="outpaint", init_image=init,
                               outpaint=(16, 0, 24, 8)))
    image = result.images[0]
    assert image.shape == (72, 104, 3)
    o = OUTPAINT_OVERLAP
    kept_out = image[0:64 - o, 16 + o:16 + 64 - o].astype(int)
    assert np.abs(kept_out - init[0:64 - o, o:64 - o]).max() <= 1
    assert result.overlay.image.shape == (72, 104, 3)


def test_the_png_record_stores_the_overlay_choice(tiny_folder):
    from engine.stable_diffusion.parameters import save_items

    request = tiny_request(tiny_folder, mode="inpaint", init_image=_photo(), overlay=False,
                           mask=np.full((64, 64), 255, np.uint8), steps=1)
    items = save_items(request, _run(request))
    assert items[0].request["overlay"] is False
