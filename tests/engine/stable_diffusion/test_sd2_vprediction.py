"""SD 2.x and v-prediction (prediction.py): the tiny v-prediction SD 2.x pipeline loads from its
folder and from one file (a config folder for its architecture, --prediction-type over that
config's ε), generates deterministically by seed; x̂₀ follows the prediction type; zero terminal SNR rescales
the schedule for v-models and is refused, with the reason, for ε-models."""

from __future__ import annotations

import inspect
import json
import shutil

import numpy as np
import pytest

from engine.errors import UserFacingError
from engine.fixtures.tiny_sd2 import save_tiny_sd2_pipeline
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.prediction import ZERO_SNR_CLASSES
from engine.stable_diffusion.schedulers import make_scheduler
from engine.stable_diffusion.types import ModelSource
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


@pytest.fixture(scope="module")
def sd2(tmp_path_factory):
    """(folder source, the single file alone in its own folder, an ε-config copy of the folder)."""
    folder, single = save_tiny_sd2_pipeline(tmp_path_factory.mktemp("tiny-sd2"))
    alone = tmp_path_factory.mktemp("alone") / "sd21-768.safetensors"
    shutil.copy(single, alone)
    epsilon_config = tmp_path_factory.mktemp("config") / "sd21-base"
    shutil.copytree(folder, epsilon_config)
    scheduler = epsilon_config / "scheduler" / "scheduler_config.json"
    config = json.loads(scheduler.read_text())
    scheduler.write_text(json.dumps({**config, "prediction_type": "epsilon"}))
    return ModelSource(str(folder)), alone, epsilon_config


def test_loads_from_folder_and_single_file_and_generates_by_seed(sd2):
    source, alone, epsilon_config = sd2
    info = get_pipeline(source, CPU).info
    assert (info.family.name, info.family.prediction_type) == ("SD 2.x", "v_prediction")
    first = run_generation(tiny_request(source), Reporter())
    again = run_generation(tiny_request(source), Reporter())
    other = run_generation(tiny_request(source, seed=8), Reporter())
    assert np.array_equal(first.images[0], again.images[0])
    assert not np.array_equal(first.images[0], other.images[0])
    assert np.isfinite(first.step_predictions[0]).all()
    assert first.parameters["prediction_type"] == "v_prediction"

    # One file in SD 2.x's original layout, its architecture from a config folder that says ε
    # (as SD 2.1-base's does), the prediction type from the user (--prediction-type).
    single_file = ModelSource(str(alone), config=str(epsilon_config), prediction_type="v_prediction")
    loaded = get_pipeline(single_file, CPU)
    assert loaded.pipe.scheduler.config.prediction_type == "v_prediction"
    assert loaded.info.family.label == "SD 2.x (v-prediction)"
    single = run_generation(tiny_request(single_file), Reporter())
    assert np.array_equal(single.images[0], first.images[0])  # the same weights, all read back
    from safetensors import safe_open

    with safe_open(str(alone), framework="pt") as handle:  # SD 2.x's own layout: OpenCLIP's
        assert "cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight" in handle.keys()

    with pytest.raises(UserFacingError, match="--config FOLDER"):  # offline, no config anywhere
        get_pipeline(ModelSource(str(alone), prediction_type="v_prediction"), CPU)


def test_x0_of_a_multistep_solver_follows_v_prediction(sd2):
    """DPM-Solver++ returns no x̂₀ (it is derived from the model output: x0_capture.py). Its
    last step lands exactly on its x̂₀, which holds only if the derivation used v's formula."""
    result = run_generation(tiny_request(sd2[0], scheduler="DPM-Solver++ 2M", steps=3), Reporter())
    np.testing.assert_allclose(result.step_predictions[0][-1], result.step_latents[0][-1],
                               atol=1e-4)


def test_zero_terminal_snr_for_v_models_refused_for_epsilon(sd2, tiny_folder):
    source = sd2[0]
    loaded = get_pipeline(source, CPU)
    scheduler = make_scheduler("default", loaded.pipe, 4, zero_snr=True)
    assert float(scheduler.alphas_cumprod[-1]) == 0.0
    scheduler.set_timesteps(4)
    assert int(scheduler.timesteps[0]) == 999  # trailing: the first step at t = T
    plain = run_generation(tiny_request(source), Reporter())
    zero = run_generation(tiny_request(source, zero_snr=True), Reporter())
    assert zero.parameters["zero_snr"] is True and np.isfinite(zero.step_predictions[0]).all()
    assert not np.array_equal(plain.images[0], zero.images[0])
    with pytest.raises(UserFacingError, match="choose DDIM"):
        run_generation(tiny_request(source, zero_snr=True, scheduler="PNDM"), Reporter())
    with pytest.raises(UserFacingError, match="needs a v-prediction model.*pure noise"):
        run_generation(tiny_request(tiny_folder, zero_snr=True, scheduler="DDIM"), Reporter())


def test_zero_snr_scheduler_list_matches_diffusers():
    import diffusers

    from engine.samplers.registry import get_sampler
    from engine.stable_diffusion.prediction import ZERO_SNR_SAMPLERS
    from engine.stable_diffusion.types import SCHEDULER_NAMES

    classes = {get_sampler(name).scheduler_class for name in SCHEDULER_NAMES} - {None}
    supported = {name for name in classes
                 if "rescale_betas_zero_snr" in inspect.signature(getattr(diffusers, name)).parameters}
    assert supported == ZERO_SNR_CLASSES & classes
    assert {get_sampler(n).scheduler_class for n in ZERO_SNR_SAMPLERS} == supported
