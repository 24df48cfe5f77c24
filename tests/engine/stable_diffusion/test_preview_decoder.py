"""The tiny autoencoder as the preview decoder (preview_decoder.py), on tiny random-weight
AutoencoderTiny folders (engine/fixtures/tiny_taesd.py) and the tiny SD pipeline (64 px)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


def test_previews_decode_the_latents_as_a_pipeline_with_the_tiny_decoder_as_its_vae(tiny_folder):
    """Pins diffusers' behaviour we rely on: a pipeline decodes ``latents / scaling_factor`` with
    its VAE, so TAESD (scaling 1.0) takes the scaled latents as they are. A decoder whose
    config says 2.0 makes any other formula fail this test."""
    from diffusers import StableDiffusionPipeline

    from engine.fixtures.tiny_taesd import build_tiny_taesd
    from engine.runtime import import_torch
    from engine.stable_diffusion.preview_decoder import tiny_decode

    torch = import_torch()
    taesd = build_tiny_taesd(scaling_factor=2.0)
    last_conv = [m for m in taesd.decoder.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last_conv.bias += 0.5  # mid-grey output: nothing clipped by the pipeline's [0, 1]
    pipe = get_pipeline(tiny_folder, CPU).pipe
    with_taesd = StableDiffusionPipeline(**{**pipe.components, "vae": taesd})
    with_taesd.set_progress_bar_config(disable=True)
    common = dict(prompt="a cat", num_inference_steps=1, width=64, height=64, guidance_scale=1.0)
    latents = with_taesd(**common, generator=torch.Generator().manual_seed(1),
                         output_type="latent").images
    theirs = with_taesd(**common, generator=torch.Generator().manual_seed(1),
                        output_type="np").images[0]
    with torch.inference_mode():
        ours = tiny_decode(taesd, latents)[0].permute(1, 2, 0).numpy()
    assert 0.01 < theirs.min() and theirs.max() < 0.99
    np.testing.assert_allclose((ours + 1) / 2, theirs, atol=1e-4)
    with torch.inference_mode():
        unscaled = tiny_decode(taesd, latents * 2.0)[0].permute(1, 2, 0).numpy()
    assert np.abs((unscaled + 1) / 2 - theirs).max() > 1e-2  # the factor matters


def test_live_previews_are_full_resolution_and_their_cost_is_reported(tiny_folder, taesd_folders):
    previews = []
    request = tiny_request(tiny_folder, preview_every=1, steps=3, scheduler="Euler",
                           preview_decoder=str(taesd_folders[4]))
    result = run_generation(request, Reporter(on_partial=previews.append))
    assert [p.preview.shape for p in previews] == [(64, 64, 3)] * 3  # output size, every step
    assert all(p.preview.dtype == np.uint8 for p in previews)
    record = result.preview_decoder
    assert record.used and record.previews == 3 and record.size == (64, 64)
    assert record.seconds > 0 and "3 preview(s) at 64×64 px" in record.summary()
    # The final image is the full VAE's, not the preview decoder's
    plain = run_generation(tiny_request(tiny_folder, steps=3, scheduler="Euler"), Reporter())
    np.testing.assert_array_equal(result.images[0], plain.images[0])


def test_a_16_channel_decoder_on_a_4_channel_model_falls_back_with_a_note(tiny_folder,
                                                                         taesd_folders):
    previews = []
    request = tiny_request(tiny_folder, preview_every=1, scheduler="Euler",
                           preview_decoder=str(taesd_folders[16]))
    result = run_generation(request, Reporter(on_partial=previews.append))
    assert [p.preview.shape for p in previews] == [(32, 32, 3)] * 2  # latent→RGB: latent size
    note = result.preview_decoder.note
    assert not result.preview_decoder.used
    assert "decodes 16-channel latents" in note and "SD 1.x model's latents have 4 channels" in note
    assert "use madebyollin/taesd as its preview decoder" in note
    assert note in result.warnings


@pytest.mark.parametrize("location, message", [
    ("/no/such/taesd", "does not exist"),
    ("madebyollin/taesd", "not in the Hugging Face cache and offline mode is on"),
])
def test_a_decoder_that_cannot_load_is_a_note_not_an_error(tiny_folder, location, message):
    from engine.stable_diffusion.preview_decoder import PreviewDecoding

    decoding = PreviewDecoding(location, get_pipeline(tiny_folder, CPU).pipe)
    assert decoding.decoder is None and message in decoding.note
    assert decoding.note.startswith("Previews went through the latent→RGB map instead")


def test_a_model_folder_is_not_a_preview_decoder(tiny_folder):
    from engine.stable_diffusion.preview_decoder import PreviewDecoding

    decoding = PreviewDecoding(tiny_folder.location, get_pipeline(tiny_folder, CPU).pipe)
    assert "not a preview decoder folder" in decoding.note


def test_the_decoders_job_shows_one_step_three_ways(tiny_folder, taesd_folders):
    from engine.stable_diffusion.preview_decoder import decoders_job
    from engine.stable_diffusion.preview_types import DecodersRequest

    latents = np.random.default_rng(0).standard_normal((4, 32, 32)).astype(np.float32)
    result = decoders_job(DecodersRequest(latents, tiny_folder, CPU, str(taesd_folders[4]),
                                          tag=(0, 2)), Reporter())
    assert result.tag == (0, 2)
    assert result.latent_rgb.image.shape == (32, 32, 3)
    assert result.tiny.image.shape == result.vae.image.shape == (64, 64, 3)
    assert result.tiny.name == "tiny-taesd"
    assert result.tiny.ms > 0 and result.vae.ms > 0
    without = decoders_job(DecodersRequest(latents, tiny_folder, CPU, None), Reporter())
    assert without.tiny.image is None and "none set" in without.tiny.note
