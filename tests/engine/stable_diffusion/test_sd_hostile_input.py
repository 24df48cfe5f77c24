"""Hostile input to Stable Diffusion (request, command line, engine): a sentence, never a
traceback, a black image or minutes of work. Bounded and fast: invalid requests are refused
before any model loads; the few real runs use the tiny pipeline at 64 px."""

from __future__ import annotations

import math
import socket

import numpy as np
import pytest
from PIL import Image

from engine.errors import UserFacingError, describe
from engine.reporting import Reporter
from engine.stable_diffusion.types import (
    MAX_STEPS,
    SCHEDULER_NAMES,
    GenerationRequest,
    ModelSource,
)
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request

INIT = np.zeros((64, 64, 3), np.uint8)


# -- the request's own validation (shared by the GUI and the CLI) ---------------------------
@pytest.mark.parametrize("changes, words", [
    (dict(steps=0), "steps must be a whole number from 1 to 150"),
    (dict(steps=151), "from 1 to 150"),
    (dict(steps=1000), "from 1 to 150"),
    (dict(guidance_scale=math.inf), "guidance scale must be a finite number ≥ 0"),
    (dict(guidance_scale=math.nan), "guidance scale"),
    (dict(guidance_scale=-1.0), "guidance scale"),
    (dict(width=100000), "multiples of 8 from 64 to 2048"),
    (dict(height=56), "multiples of 8 from 64 to 2048"),
    (dict(width=100), "multiples of 8"),
    (dict(mode="outpaint", init_image=INIT, width=2048, outpaint=(8, 0, 0, 0)),
     "outpainted image would be 2056×512"),
    (dict(mode="outpaint", init_image=INIT, outpaint=(8000, 8000, 8000, 8000)), "at most 2048"),
    (dict(mode="outpaint", init_image=INIT, outpaint=(-8, 0, 0, 0)), "non-negative multiples"),
    (dict(mode="inpaint", init_image=INIT, mask=INIT[..., 0], mask_feather=-5), "mask feather"),
    (dict(seed=-1), "seed must be a whole number from 0 to 4294967295"),
    (dict(seed=2**32), "4294967295"),
    (dict(seed=99999999999999999999999), "4294967295"),
    (dict(batch_size=0), "batch size"),
    (dict(batch_count=10**6), "batch count"),
    (dict(mode="img2img", init_image=INIT, strength=math.nan), "strength"),
    (dict(mode="img2img", init_image=INIT, strength=0.0), "strength"),
    (dict(scheduler="Karras"), "unknown scheduler"),
])
def test_bad_requests_are_refused_with_a_sentence(changes, words):
    with pytest.raises(ValueError) as info:
        GenerationRequest("x", **changes)
    message = str(info.value)
    assert words.lower() in message.lower()
    assert message[0].isupper() and message.endswith(".")


def test_the_edges_of_every_range_are_accepted():
    for changes in (dict(steps=1), dict(steps=MAX_STEPS), dict(guidance_scale=0.0),
                    dict(width=64, height=2048), dict(seed=0), dict(seed=2**32 - 1),
                    dict(mode="outpaint", init_image=INIT, width=2032, outpaint=(8, 0, 8, 0)),
                    dict(mode="img2img", init_image=INIT, strength=0.01)):
        GenerationRequest("x", **changes)


# -- the command line refuses before loading anything --------------------------------------
@pytest.mark.parametrize("extra, words", [
    (["--guidance", "inf"], "guidance scale must be a finite number"),
    (["--guidance", "nan"], "guidance scale must be a finite number"),
    (["--steps", "1000"], "from 1 to 150"),
    (["--width", "100000"], "from 64 to 2048"),
    (["--height", "0"], "from 64 to 2048"),
    (["--mask-feather", "-5", "--init-image", "{init}", "--mask", "{init}"], "mask feather"),
    (["--outpaint", "8000,8000,8000,8000", "--init-image", "{init}"], "at most 2048"),
    (["--seed", "99999999999999999999999"], "4294967295"),
])
def test_cli_generate_refuses_before_the_model_loads(tmp_path, capsys, extra, words):
    from playground_gui.app import main

    init = tmp_path / "in.png"
    Image.new("RGB", (64, 64)).save(init)
    # A model that does not exist: had anything loaded first, that would be the error.
    args = ["generate", "--model", str(tmp_path / "no-such-model"), "--prompt", "x",
            "--out", str(tmp_path / "o.png")] + [a.replace("{init}", str(init)) for a in extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and "no-such-model" not in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_init_image_over_the_pixel_limit_is_a_sentence(tmp_path, capsys, monkeypatch):
    from playground_gui.app import main

    big = tmp_path / "big.png"
    Image.new("RGB", (200, 100)).save(big)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)  # 20 000 px > 2 × 5000: a "bomb"
    code = main(["generate", "--model", str(tmp_path / "none"), "--prompt", "x",
                 "--init-image", str(big), "--out", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and "too large to open safely" in err and "Traceback" not in err


def test_a_huge_jpeg_init_image_is_not_decoded_at_full_size(tmp_path):
    """Read through engine/images.py's opener: JPEG draft mode decodes at 1/8 scale."""
    from engine.cli.generate_command import _read_image

    path = tmp_path / "wide.jpg"
    Image.new("RGB", (4096, 2048), (10, 120, 200)).save(path, quality=50)
    pixels = _read_image(str(path), "RGB", (512, 512))
    height, width, _ = pixels.shape
    assert min(height, width) >= 512  # still enough for the 512² the run resizes it to
    assert height * width <= 4096 * 2048 // 16  # but decoded at reduced scale, not in full


# -- out of memory, non-finite results --------------------------------------------------------
def test_cpu_allocator_failures_get_out_of_memory_advice():
    from engine.stable_diffusion.devices import out_of_memory_advice

    error = RuntimeError("[enforce fail at alloc_cpu.cpp:121] data. DefaultCPUAllocator: can't "
                         "allocate memory: you tried to allocate 10737418240 bytes.")
    assert "computer ran out of memory" in describe(error)
    with pytest.raises(UserFacingError, match="computer ran out of memory.*smaller image"):
        with out_of_memory_advice(8192, 8192, 1):
            raise error


@pytest.mark.parametrize("part", ["unet", "vae"])
def test_non_finite_weights_are_an_error_not_a_black_image(tiny_folder, part):
    import torch

    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.loading import get_pipeline, unload

    pipe = get_pipeline(tiny_folder, CPU).pipe
    try:
        with torch.no_grad():
            layer = pipe.unet.conv_out if part == "unet" else pipe.vae.post_quant_conv
            layer.weight.fill_(float("nan"))
        with pytest.raises(UserFacingError, match="NaN or infinite values"):
            run_generation(tiny_request(tiny_folder, steps=1), Reporter())
    finally:
        unload()  # the cached pipeline was changed in place


# -- every scheduler across the allowed range -------------------------------------------------
def test_every_scheduler_runs_at_the_ends_of_the_step_range(tiny_folder):
    """Each scheduler as run_generation builds it, from the tiny model's own config, through
    its own set_timesteps and step at 1, 2, 149 and 150 steps (the pipeline runs 1 and 2 steps
    in test_stable_diffusion.py; 150 full UNet runs would take minutes)."""
    import torch

    from engine.stable_diffusion.denoiser_types import scheduler_names_for
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.schedulers import make_scheduler

    pipe = get_pipeline(tiny_folder, CPU).pipe
    noise = torch.randn(1, 4, 4, 4, generator=torch.Generator().manual_seed(0))
    for name in scheduler_names_for(type(pipe).__name__, SCHEDULER_NAMES):  # not the flow ones
        for steps in (1, 2, MAX_STEPS - 1, MAX_STEPS):
            scheduler = make_scheduler(name, pipe, steps)
            scheduler.set_timesteps(steps)
            x = noise * scheduler.init_noise_sigma
            generator = torch.Generator().manual_seed(0)
            for t in scheduler.timesteps:
                model_output = 0.5 * scheduler.scale_model_input(x, t)  # ε̂ ∝ x: shrinks to 0
                kwargs = {"generator": generator} if "generator" in \
                    scheduler.step.__code__.co_varnames else {}
                x = scheduler.step(model_output, t, x, **kwargs).prev_sample
            assert torch.isfinite(x).all(), (name, steps)


def test_one_step_runs_with_every_scheduler_and_in_every_mode(tiny_folder):
    from engine.stable_diffusion.denoiser_types import FLOW_ONLY_SCHEDULER_NAMES
    from engine.stable_diffusion.generation import run_generation

    for scheduler in SCHEDULER_NAMES:
        if scheduler in FLOW_ONLY_SCHEDULER_NAMES:  # SD 3/Flux only: test_sd3_flux.py
            continue
        result = run_generation(tiny_request(tiny_folder, steps=1, scheduler=scheduler,
                                             guidance_scale=1.0, record_steps=False), Reporter())
        assert result.images[0].shape == (64, 64, 3) and result.steps_done >= 1, scheduler
    # img2img/inpaint run int(steps × strength) steps: 0 of 1 used to be diffusers' ValueError.
    for changes in (dict(mode="img2img", init_image=INIT, strength=0.3),
                    dict(mode="inpaint", init_image=INIT, mask=INIT[..., 0] + 255, strength=0.5)):
        result = run_generation(tiny_request(tiny_folder, steps=1, guidance_scale=1.0,
                                             record_steps=False, **changes), Reporter())
        assert result.images[0].shape == (64, 64, 3) and 1 <= result.steps_done <= 2  # PNDM: +1


# -- steps vs model calls, native size, names ----------------------------------------------
def test_pndm_reports_steps_and_model_calls(tiny_folder, tmp_path, capsys):
    from playground_gui.app import main

    out = tmp_path / "p.png"
    assert main(["generate", "--model", tiny_folder.location, "--prompt", "a cat", "--steps", "3",
                 "--device", "cpu", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "3 steps (4 model calls)" in printed
    # Without --width/--height: the model's native size (the tiny pipeline's is 64 px).
    with Image.open(out) as image:
        assert image.size == (64, 64)
        assert "Steps: 3," in image.text["parameters"]


def test_native_size_follows_the_model(tiny_folder):
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.loading import get_pipeline

    assert get_pipeline(tiny_folder, CPU).info.default_size == 64
    result = run_generation(tiny_request(tiny_folder, steps=3), Reporter())
    assert (result.requested_steps, result.model_calls) == (3, 4)
    assert result.steps_text == "3 steps (4 model calls)"
    ddim = run_generation(tiny_request(tiny_folder, steps=3, scheduler="DDIM"), Reporter())
    assert ddim.steps_text == "3 steps"


@pytest.mark.parametrize("typed, ours", [
    ("ddim", "DDIM"), ("Euler a", "Euler ancestral"), ("euler A", "Euler ancestral"),
    ("DPM++ 2M Karras", "DPM-Solver++ 2M Karras"), ("dpm++ 2m", "DPM-Solver++ 2M"),
    ("UniPC", "UniPC"), ("lcm", "LCM"), ("PNDM", "PNDM"), ("PLMS", "PNDM"), ("ddpm", "DDPM"),
    ("EULER", "Euler"), ("Default", "default"),
])
def test_scheduler_names_any_case_and_automatic1111s(typed, ours):
    from engine.samplers.names import sd_scheduler

    assert sd_scheduler(typed) == ours


def test_sampler_names_for_the_digits_commands(tmp_path, capsys):
    from engine.samplers.names import digits_sampler
    from playground_gui.app import main

    assert [digits_sampler(n) for n in ("DDIM", "Euler a", "DPM++ 2M", "PLMS", "UniPC", "LMS")] \
        == ["ddim", "euler_a", "dpmpp_2m", "pndm", "unipc", "lms"]
    with pytest.raises(SystemExit):
        main(["sample", "--sampler", "Heun", "--out", str(tmp_path / "x.png")])
    assert "unknown sampler 'Heun'; choose one of" in capsys.readouterr().err


def test_cli_generate_accepts_automatic1111_names(tiny_folder, tmp_path):
    from playground_gui.app import main

    out = tmp_path / "a.png"
    assert main(["generate", "--model", tiny_folder.location, "--prompt", "a cat", "--steps", "1",
                 "--scheduler", "dpm++ 2m karras", "--device", "cpu", "--out", str(out),
                 "--quiet"]) == 0
    with Image.open(out) as image:
        assert "Sampler: DPM++ 2M Karras" in image.text["parameters"]


# -- the default model with the network unreachable ---------------------------------------
def test_unreachable_hub_is_reported_within_five_seconds(tmp_path, monkeypatch):
    """HF_HUB_OFFLINE off, the Hub endpoint a closed local port, an empty cache: the library
    alone retries for 10–30 s ("Retrying in 8s"); the message must come within 5 s."""
    import time

    from diffusers import AutoPipelineForText2Image  # noqa: F401 (imports are not the point)
    from huggingface_hub import constants

    from engine.stable_diffusion.loading import get_pipeline, unload

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    unload()
    started = time.perf_counter()
    with pytest.raises(UserFacingError, match="Hugging Face Hub cannot be reached"):
        get_pipeline(ModelSource(), CPU)
    assert time.perf_counter() - started < 5.0
