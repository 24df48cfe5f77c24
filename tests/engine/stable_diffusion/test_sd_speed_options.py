"""Speed options (issue 13): applied in place without reloading, the same image, bf16 on CPU,
and step recording that stays on the device until the pipeline call ends."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.recording import FLOAT16_MAX, StepRecording
from engine.stable_diffusion.speedups import unet_is_compiled
from engine.stable_diffusion.types import PipelineOptions
from tests.engine.stable_diffusion.sd_fixtures import tiny_request


def test_speed_options_change_the_loaded_model_in_place_and_not_the_image(tiny_folder):
    plain = run_generation(tiny_request(tiny_folder), Reporter())
    loaded = get_pipeline(tiny_folder, PipelineOptions(device="cpu"))
    eager_unet = loaded.pipe.unet
    fast = PipelineOptions(device="cpu", channels_last=True, fuse_qkv=True)
    faster = run_generation(tiny_request(tiny_folder, options=fast), Reporter())
    assert get_pipeline(tiny_folder, fast) is loaded  # no reload
    assert loaded.speed.channels_last and loaded.speed.fuse_qkv
    conv = next(p for p in eager_unet.parameters() if p.dim() == 4)
    assert conv.is_contiguous(memory_format=pytest.importorskip("torch").channels_last)
    difference = np.abs(plain.images[0].astype(int) - faster.images[0].astype(int)).max()
    assert difference <= 1  # float rounding of another kernel order, no more

    # Back to the defaults: the loaded model as it was.
    again = run_generation(tiny_request(tiny_folder), Reporter())
    assert not loaded.speed.channels_last and not loaded.speed.fuse_qkv
    assert np.array_equal(again.images[0], plain.images[0])


def test_compile_swaps_in_a_compiled_unet_kept_for_the_session(tiny_folder):
    loaded = get_pipeline(tiny_folder, PipelineOptions(device="cpu", compile_unet=True))
    eager = loaded.speed.eager_unet
    assert unet_is_compiled(loaded) and loaded.pipe.unet is not eager
    compiled = loaded.pipe.unet
    assert get_pipeline(tiny_folder, PipelineOptions(device="cpu")).pipe.unet is eager
    assert not unet_is_compiled(loaded)
    # Asking again reuses the same compiled wrapper (its compiled graphs with it).
    assert get_pipeline(tiny_folder, PipelineOptions(device="cpu", compile_unet=True)).pipe.unet \
        is compiled
    get_pipeline(tiny_folder, PipelineOptions(device="cpu"))


def test_options_that_cannot_go_together_are_refused_with_a_sentence(tiny_folder):
    from engine.errors import UserFacingError

    loaded = get_pipeline(tiny_folder, PipelineOptions(device="cpu"))
    with pytest.raises(UserFacingError, match="attention slicing"):
        get_pipeline(tiny_folder, PipelineOptions(device="cpu", fuse_qkv=True,
                                                  attention_slicing=True))
    with pytest.raises(UserFacingError, match="CPU offload"):
        get_pipeline(tiny_folder, PipelineOptions(device="cpu", compile_unet=True,
                                                  cpu_offload=True))
    assert get_pipeline(tiny_folder, PipelineOptions(device="cpu")) is loaded  # refused early


def test_bfloat16_on_cpu_runs_the_unet_in_bf16_and_keeps_the_vae_in_float32(tiny_folder):
    options = PipelineOptions(device="cpu", dtype="bfloat16")
    result = run_generation(tiny_request(tiny_folder, options=options), Reporter())
    assert result.model_info.dtype == "bfloat16" and result.model_info.vae_dtype == "float32"
    assert result.images[0].dtype == np.uint8 and result.images[0].std() > 0
    get_pipeline(tiny_folder, PipelineOptions(device="cpu"))  # the other tests' model back


def test_steps_recorded_on_the_device_reach_the_host_as_before():
    torch = pytest.importorskip("torch")
    recording = StepRecording(budget_mb=1, batch_count=1)
    shape = (1, 4, 8, 8)
    assert recording.wants(0, 0, 3, shape)
    recording.plan = type(recording.plan)(3, 1, np.float16, 1)  # force the float16 plan
    rows = []
    for step in range(3):
        x_t = torch.full(shape, float(step))
        x0 = torch.full(shape, 1e6)  # beyond float16's range: clipped, not inf
        rows.append(recording.on_device(x_t, x0, torch.tensor(900 - 300 * step)))
    recording.add_from_device(0, rows)
    latents, predictions = recording.step_latents()[0], recording.step_predictions()[0]
    assert latents.dtype == np.float16 and latents.shape == (3, *shape)
    assert [float(latents[i].max()) for i in range(3)] == [0.0, 1.0, 2.0]
    assert np.isfinite(predictions).all() and float(predictions.max()) == FLOAT16_MAX
    assert recording.timesteps == [900.0, 600.0, 300.0]
