"""Issue 6 for Stable Diffusion: a saved PNG says how it was made, and that is enough to make it
again (tiny random-weight pipeline through the real handler, the real writer and reader)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine.png.chunks import read_png_metadata
from engine.png.record import KIND_STABLE_DIFFUSION, request_from_record
from engine.png.saving import save_image
from engine.reporting import Reporter
from engine.stable_diffusion.parameters import (
    SCHEDULER_NAMES,
    a1111_sampler_name,
    save_items,
    scheduler_for_sampler,
)
from engine.stable_diffusion.types import GenerationRequest, ModelSource, PipelineOptions


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory):
    from engine.fixtures.tiny_sd import save_tiny_pipeline

    folder, _ = save_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd-repro"))
    return ModelSource(str(folder))


def generate(request):
    from engine.stable_diffusion.generation import run_generation

    return run_generation(request, Reporter())


def test_save_read_back_rebuild_and_regenerate_the_same_image(tiny_source, tmp_path):
    request = GenerationRequest(
        prompt='a red cube, on a "table": 3\nsecond line, ünïcode', negative_prompt="blurry, dark",
        source=tiny_source, options=PipelineOptions(device="cpu", attention_slicing=True),
        steps=2, guidance_scale=6.5, seed=4_000_000_000, width=64, height=64,
        scheduler="Euler ancestral", preview_every=0, record_steps=False)
    result = generate(request)
    (item,) = save_items(request, result)
    path = save_image(item.image, item.parameters, item.request, tmp_path, kind=KIND_STABLE_DIFFUSION)
    assert path.name == "00001-4000000000.png"

    meta = read_png_metadata(path)
    assert meta.kind == KIND_STABLE_DIFFUSION and not meta.warnings
    # The A1111 text other tools read.
    assert meta.parameters.prompt == request.prompt
    assert meta.parameters.negative_prompt == "blurry, dark"
    assert (meta.parameters.steps, meta.parameters.sampler, meta.parameters.cfg_scale) == (2, "Euler a", 6.5)
    assert (meta.parameters.seed, meta.parameters.width, meta.parameters.height) == (4_000_000_000, 64, 64)
    assert meta.parameters.model == "tiny-sd"
    assert "Steps: 2, Sampler: Euler a, CFG scale: 6.5, Seed: 4000000000, Size: 64x64" \
        in meta.parameters_text

    # The JSON record rebuilds the exact request: nested dataclasses, tuples and all.
    restored, skipped = request_from_record(GenerationRequest, meta.request)
    assert restored == request
    assert isinstance(restored.source, ModelSource) and isinstance(restored.options, PipelineOptions)
    assert isinstance(restored.outpaint, tuple)
    assert skipped == [] and restored.init_image is None  # no input image in txt2img

    again = generate(restored)
    with Image.open(path) as saved:
        assert np.array_equal(np.asarray(saved.convert("RGB")), result.images[0])
    assert np.array_equal(again.images[0], result.images[0])


def test_an_image_of_a_random_seed_batch_restores_its_whole_batch(tiny_source, tmp_path):
    request = GenerationRequest(prompt="a cat", source=tiny_source,
                                options=PipelineOptions(device="cpu"), steps=2, width=64,
                                height=64, seed=None, batch_size=2, scheduler="DDIM",
                                preview_every=0, record_steps=False)
    result = generate(request)
    items = save_items(request, result)
    second = save_image(items[1].image, items[1].parameters, items[1].request, tmp_path,
                        kind=items[1].kind)
    meta = read_png_metadata(second)
    assert meta.parameters.seed == result.seeds[1] == result.seed + 1  # A1111: the image's seed
    assert meta.request["image_index"] == 1 and meta.request["seed"] == result.seed
    restored, _ = request_from_record(GenerationRequest, meta.request)
    again = generate(restored)
    assert np.array_equal(again.images[1], result.images[1])


def test_cli_generate_writes_both_chunks_info_reads_them_and_nothing_is_overwritten(
        tiny_source, tmp_path, capsys):
    from playground_gui.app import main

    out = tmp_path / "out.png"
    args = ["generate", "--model", tiny_source.location, "--prompt", "a blue dog, running",
            "--steps", "2", "--width", "64", "--height", "64", "--seed", "42", "--scheduler",
            "DPM-Solver++ 2M Karras", "--device", "cpu", "--out", str(out), "--quiet"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == KIND_STABLE_DIFFUSION
    assert data["parameters"]["sampler"] == "DPM++ 2M Karras" and data["parameters"]["seed"] == 42
    assert data["request"]["prompt"] == "a blue dog, running"
    assert data["request"]["source"]["location"] == tiny_source.location
    restored, _ = request_from_record(GenerationRequest, data["request"])
    assert restored.scheduler == "DPM-Solver++ 2M Karras" and restored.seed == 42

    before = out.read_bytes()
    assert main(args) == 2  # refuses before generating: nothing is lost
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main([*args, "--overwrite"]) == 0


def test_sampler_names_map_both_ways():
    for name in SCHEDULER_NAMES:
        if name != "default":
            assert scheduler_for_sampler(a1111_sampler_name(name)) == name
    assert a1111_sampler_name("default", "PNDMScheduler") == "PLMS"
    assert scheduler_for_sampler("DPM++ 2M", "Karras") == "DPM-Solver++ 2M Karras"
    assert scheduler_for_sampler("euler a") == "Euler ancestral"
    assert scheduler_for_sampler("Heun") is None and scheduler_for_sampler(None) is None


@pytest.mark.parametrize("scheduler", ["DDPM", "LCM"])
def test_stochastic_samplers_repeat_with_the_same_seed(tiny_source, scheduler):
    # They draw fresh noise every step: from the seeded generator, not the global RNG.
    request = GenerationRequest(prompt="a cat", source=tiny_source,
                                options=PipelineOptions(device="cpu"), steps=2, width=64,
                                height=64, seed=3, scheduler=scheduler, preview_every=0,
                                record_steps=False)
    first = generate(request).images[0]
    import torch

    torch.manual_seed(12345)  # the global RNG must not matter
    assert np.array_equal(generate(request).images[0], first)
