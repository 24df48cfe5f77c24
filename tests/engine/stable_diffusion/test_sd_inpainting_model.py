"""The inpainting-model path: a checkpoint whose UNet takes 9 channels (noisy latent, mask,
masked-image latent) loads as an inpainting model, runs inpaint through diffusers' inpainting
pipeline with all 9 channels, keeps the input outside the mask, and refuses txt2img/img2img."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import UserFacingError
from engine.fixtures.tiny_inpainting import save_tiny_inpainting_pipeline
from engine.reporting import Reporter
from engine.stable_diffusion.generation import pipeline_for_mode, run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.types import ModelSource
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


@pytest.fixture(scope="module")
def inpainting(tmp_path_factory):
    return ModelSource(str(save_tiny_inpainting_pipeline(tmp_path_factory.mktemp("inpainting"))))


def test_nine_channel_unet_inpaints_and_keeps_the_rest(inpainting):
    loaded = get_pipeline(inpainting, CPU)
    assert loaded.info.is_inpainting_model and loaded.info.family.name == "SD 1.x"
    pipe = pipeline_for_mode(loaded, "inpaint")
    assert type(pipe).__name__ == "StableDiffusionInpaintPipeline"
    channels = []
    hook = pipe.unet.conv_in.register_forward_pre_hook(
        lambda _module, args: channels.append(args[0].shape[1]))
    rng = np.random.default_rng(0)
    init = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    try:
        result = run_generation(tiny_request(inpainting, mode="inpaint", init_image=init,
                                             mask=mask, strength=1.0), Reporter())
    finally:
        hook.remove()
    assert channels and set(channels) == {9}  # latent + mask + masked image, every call
    assert np.isfinite(result.step_predictions[0]).all()
    image = result.images[0].astype(int)
    kept = mask == 0
    assert np.abs(image[kept] - init[kept]).max() <= 1  # the overlay: the input's own pixels
    assert np.abs(image[~kept] - init[~kept]).mean() > 10  # the masked square was repainted
    for mode in ("txt2img", "img2img"):
        with pytest.raises(UserFacingError, match="inpainting checkpoint"):
            run_generation(tiny_request(inpainting, mode=mode, init_image=init), Reporter())
