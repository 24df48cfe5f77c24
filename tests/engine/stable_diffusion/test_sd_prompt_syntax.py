"""Issue 16 §1 on the tiny random pipeline: weights act on the text encoder's output, weight 1
is the plain prompt exactly, long prompts are chunked, prompt editing switches at its step."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import UserFacingError
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.prompt_encoding import prompt_inputs
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


def image_of(source, prompt, **changes):
    request = tiny_request(source, prompt=prompt, record_steps=False, **changes)
    return run_generation(request, Reporter()).images[0]


def pipe_of(source):
    return get_pipeline(source, CPU, Reporter()).pipe


def test_plain_prompt_is_the_pipelines_own_path(tiny_folder):
    import torch

    from engine.stable_diffusion.generation import decode_latents

    pipe = pipe_of(tiny_folder)
    inputs = prompt_inputs(pipe, "a cat <lora:x:0.5>", "blurry", 2, 1)
    assert inputs.kwargs() == dict(prompt="a cat ", negative_prompt="blurry")
    request = tiny_request(tiny_folder, negative_prompt="dark", record_steps=False)
    ours = run_generation(request, Reporter()).images[0]
    latents = pipe(prompt=request.prompt, negative_prompt="dark", num_inference_steps=2,
                   guidance_scale=request.guidance_scale, width=64, height=64,
                   output_type="latent", generator=[torch.Generator("cpu").manual_seed(7)]).images
    assert np.array_equal(decode_latents(pipe, latents)[0], ours)


def test_weight_one_is_exactly_the_plain_prompt_and_other_weights_differ(tiny_folder):
    plain = image_of(tiny_folder, "a photo of a cat", negative_prompt="dark")
    assert np.array_equal(image_of(tiny_folder, "a photo of a (cat:1.0)", negative_prompt="dark"), plain)
    # through our own chunk encoder (BREAK makes the embeddings path run): the same pixels
    assert np.array_equal(image_of(tiny_folder, "a photo of a (cat:1.0) BREAK",
                                   negative_prompt="dark"), plain)
    weighted = image_of(tiny_folder, "a photo of a (cat:1.5)", negative_prompt="dark")
    assert not np.array_equal(weighted, plain)


def test_chunk_encoding_of_weight_one_equals_the_pipelines_encoding(tiny_folder):
    """One plain chunk through our encoder (BREAK forces it) is the pipeline's encode_prompt."""
    import torch

    pipe = pipe_of(tiny_folder)
    with torch.inference_mode():
        ours = prompt_inputs(pipe, "a cat BREAK", "", 2, 1)
        theirs, negative = pipe.encode_prompt("a cat", "cpu", 1, True, "")
    assert len(ours.schedule) == 1
    assert torch.equal(ours.schedule[0][1], theirs) and torch.equal(ours.negative[0], negative)


def test_weights_scale_the_output_then_restore_its_mean(tiny_folder):
    import torch

    pipe = pipe_of(tiny_folder)
    with torch.inference_mode():
        plain = prompt_inputs(pipe, "a cat BREAK", "", 2, 1).schedule[0][1]
        weighted = prompt_inputs(pipe, "a (cat:1.5)", "", 2, 1).schedule[0][1]
    cat_tokens = len(pipe.tokenizer("cat", add_special_tokens=False).input_ids)
    assert torch.allclose(weighted.mean(), plain.mean(), atol=1e-6)
    # the start marker and "a" are only rescaled; "cat" is ×1.5 and rescaled
    ratio = weighted[0, 0, 0] / plain[0, 0, 0]
    rows = slice(2, 2 + cat_tokens)
    assert torch.allclose(weighted[0, rows], plain[0, rows] * 1.5 * ratio, rtol=1e-4, atol=1e-6)
    assert not torch.allclose(ratio, torch.tensor(1.0))


def test_long_prompts_are_encoded_in_chunks_and_the_negative_padded(tiny_folder):
    import torch

    pipe = pipe_of(tiny_folder)
    long_prompt = " ".join(["cat"] * 80)
    with torch.inference_mode():
        inputs = prompt_inputs(pipe, long_prompt, "dark", 2, 1)
        broken = prompt_inputs(pipe, "a cat BREAK a dog", "", 2, 1)
    length = pipe.tokenizer.model_max_length
    assert inputs.schedule[0][1].shape[1] == 2 * length
    assert inputs.negative[0].shape == inputs.schedule[0][1].shape
    assert broken.schedule[0][1].shape[1] == 2 * length
    info = run_generation(tiny_request(tiny_folder, prompt=long_prompt, record_steps=False),
                          Reporter()).tokens
    assert info.count == 80 * len(pipe.tokenizer("cat", add_special_tokens=False).input_ids)
    assert info.chunks >= 2 and not info.truncated_text and not info.warning


def test_prompt_editing_switches_at_the_stated_step(tiny_folder):
    """The UNet's conditional context at each step: "cat" for steps 1-2, then "dog"."""
    import torch

    pipe = pipe_of(tiny_folder)
    seen = []
    handle = pipe.unet.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["encoder_hidden_states"][-1].clone()),
        with_kwargs=True)
    try:
        result = run_generation(tiny_request(tiny_folder, prompt="a [cat:dog:2]", steps=4,
                                             record_steps=False, scheduler="Euler"), Reporter())
    finally:
        handle.remove()
    with torch.inference_mode():
        cat = pipe.encode_prompt("a cat", "cpu", 1, False)[0][0]
        dog = pipe.encode_prompt("a dog", "cpu", 1, False)[0][0]
    assert len(seen) == 4
    assert [torch.equal(e, cat) for e in seen] == [True, True, False, False]
    assert [torch.equal(e, dog) for e in seen] == [False, False, True, True]
    assert result.tokens.steps == "1–2" and result.tokens.later[0].steps == "3–4"
    # alternation: every step
    with torch.inference_mode():
        inputs = prompt_inputs(pipe, "a [cat|dog]", "", 4, 1)
    assert [entry[0] for entry in inputs.schedule] == [1, 2, 3, 4]


def test_editing_in_the_negative_prompt_is_refused(tiny_folder):
    with pytest.raises(UserFacingError, match="negative prompt"):
        prompt_inputs(pipe_of(tiny_folder), "a cat", "[a|b]", 2, 1)


def test_the_png_stores_the_prompt_verbatim(tiny_folder, tmp_path):
    from engine.png.chunks import read_png_metadata
    from engine.png.record import KIND_STABLE_DIFFUSION, request_from_record
    from engine.png.saving import save_image
    from engine.stable_diffusion.parameters import save_items
    from engine.stable_diffusion.types import GenerationRequest

    # (<lora:…> tags are stored verbatim too: tests/engine/stable_diffusion/test_sd_lora.py.)
    prompt = "a ((cat)) [dog:bird:1] \\(x\\) BREAK (sky:0.8)"
    request = tiny_request(tiny_folder, prompt=prompt, negative_prompt="[ugly]", record_steps=False)
    (item,) = save_items(request, run_generation(request, Reporter()))
    path = save_image(item.image, item.parameters, item.request, tmp_path, kind=KIND_STABLE_DIFFUSION)
    meta = read_png_metadata(path)
    assert meta.parameters.prompt == prompt and meta.parameters.negative_prompt == "[ugly]"
    restored, _ = request_from_record(GenerationRequest, meta.request)
    assert restored.prompt == prompt
