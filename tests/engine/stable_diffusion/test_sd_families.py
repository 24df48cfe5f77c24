"""Model families from the loaded pipeline (families.py): the tiny SD 1.x and SDXL pipelines
are told apart by their class and configs (not their file names), their PNGs say so, and SDXL
previews go through SDXL's own latent→RGB map."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.fixtures.tiny_sdxl import save_tiny_sdxl_pipeline
from engine.reporting import Reporter
from engine.stable_diffusion import families
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.previews import latents_to_rgb
from engine.stable_diffusion.types import ModelSource, StepPreview
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


@pytest.fixture(scope="module")
def sdxl_named_like_sd15(tmp_path_factory):
    """The tiny SDXL folder under a misleading name: detection must not read names."""
    folder = save_tiny_sdxl_pipeline(tmp_path_factory.mktemp("tiny-sdxl"))
    misleading = folder.with_name("stable-diffusion-v1-5")
    shutil.move(folder, misleading)
    return ModelSource(str(misleading))


def test_sd1_family_from_the_loaded_pipeline(tiny_folder):
    info = get_pipeline(tiny_folder, CPU).info
    assert info.family == families.family("SD 1.x")
    assert (info.family.native_size, info.family.latent_channels) == (512, 4)
    assert info.family.prediction_type == "epsilon" and info.family.uses_unet


def test_sdxl_family_png_and_previews(sdxl_named_like_sd15, tmp_path, capsys):
    info = get_pipeline(sdxl_named_like_sd15, CPU).info
    assert info.family.name == "SDXL" and info.family.native_size == 1024
    previews: list[StepPreview] = []
    result = run_generation(tiny_request(sdxl_named_like_sd15, preview_every=1),
                            Reporter(on_partial=previews.append))
    assert result.parameters["model_family"] == "SDXL"
    # The last preview is x̂₀ of the last step (recorded) through SDXL's map, bias included.
    x0 = result.step_predictions[0][-1, 0]
    sdxl_preview = latents_to_rgb(x0, families.family("SDXL"))
    assert np.array_equal(previews[-1].preview, sdxl_preview)
    assert not np.array_equal(sdxl_preview, latents_to_rgb(x0, families.family("SD 1.x")))

    from playground_gui.app import main

    out = tmp_path / "sdxl.png"
    assert main(["generate", "--model", sdxl_named_like_sd15.location, "--prompt", "a cat",
                 "--steps", "1", "--width", "64", "--height", "64", "--seed", "1",
                 "--device", "cpu", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert "Model family: SDXL" in capsys.readouterr().out


def test_family_rules_on_configs():
    """SD 2.x at full size (cross_attention_dim 1024) and shrunk (OpenCLIP's GELU with linear
    projections); the transformer families by class; others none."""
    sd2 = families.family_of("StableDiffusionPipeline", {"cross_attention_dim": 1024},
                             {"hidden_act": "gelu"}, {"prediction_type": "v_prediction"})
    assert (sd2.name, sd2.native_size, sd2.label) == ("SD 2.x", 768, "SD 2.x (v-prediction)")
    base = families.family_of("StableDiffusionImg2ImgPipeline", {"cross_attention_dim": 1024},
                              None, {"prediction_type": "epsilon"})
    assert (base.name, base.native_size) == ("SD 2.x", 512)
    sd1 = families.family_of("StableDiffusionPipeline",
                             {"cross_attention_dim": 768, "use_linear_projection": False},
                             {"hidden_act": "quick_gelu"})
    assert sd1.name == "SD 1.x"
    sd3 = families.family_of("StableDiffusion3Pipeline")
    flux = families.family_of("FluxPipeline")
    assert (sd3.latent_channels, flux.latent_channels) == (16, 16)
    assert sd3.rgb_factors != flux.rgb_factors and sd3.prediction_type == "flow"
    assert families.family_of("StableDiffusionUpscalePipeline", {}) is None
    # 16-channel latents of an unknown model get SD 3's map, not a grey.
    latents = np.random.default_rng(0).normal(size=(16, 4, 4)).astype(np.float32)
    grey = latents_to_rgb(latents[:5])
    assert np.array_equal(grey[..., 0], grey[..., 1])
    assert np.array_equal(latents_to_rgb(latents), latents_to_rgb(latents, sd3))
    assert not np.array_equal(latents_to_rgb(latents, flux), latents_to_rgb(latents, sd3))
