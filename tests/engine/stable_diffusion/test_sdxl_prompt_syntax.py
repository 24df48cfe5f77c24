"""Issue 16 §1 on a tiny random SDXL pipeline (two text encoders, pooled embeddings): the chunk
encoder reproduces SDXL's own encoding, and prompt editing switches both tensors."""

from __future__ import annotations

import numpy as np
import pytest

from engine.stable_diffusion.prompt_encoding import prompt_inputs, syntax_support


@pytest.fixture(scope="module")
def xl_pipe():
    """Tiny SDXL: diffusers' own test configuration, with our small tokenizer (twice)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from engine.fixtures.tiny_sd import MAX_TOKENS, scratch_tokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4),
        use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1), projection_class_embeddings_input_dim=6 * 8 + 32,
        cross_attention_dim=64, norm_num_groups=1)
    vae = AutoencoderKL(block_out_channels=(32,), in_channels=3, out_channels=3,
                        down_block_types=("DownEncoderBlock2D",),
                        up_block_types=("UpDecoderBlock2D",), latent_channels=4,
                        norm_num_groups=32, sample_size=32)
    tokenizer, vocab_size = scratch_tokenizer()
    config = CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=vocab_size, max_position_embeddings=MAX_TOKENS, projection_dim=32,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, hidden_act="gelu")
    pipe = StableDiffusionXLPipeline(
        vae=vae, text_encoder=CLIPTextModel(config), text_encoder_2=CLIPTextModelWithProjection(config),
        tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet,
        scheduler=EulerDiscreteScheduler(beta_schedule="scaled_linear", beta_start=0.00085,
                                         beta_end=0.012, steps_offset=1))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_sdxl_chunk_encoding_equals_its_own_path(xl_pipe):
    import torch

    assert syntax_support(xl_pipe) == ""
    with torch.inference_mode():
        for negative in ("", "dark"):
            ours = prompt_inputs(xl_pipe, "a cat BREAK", negative, 2, 1).kwargs()
            theirs = xl_pipe.encode_prompt("a cat", device="cpu", num_images_per_prompt=1,
                                           do_classifier_free_guidance=True,
                                           negative_prompt=negative or None)
            names = ("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
                     "negative_pooled_prompt_embeds")
            for name, tensor in zip(names, theirs, strict=True):
                assert torch.equal(ours[name], tensor), (negative, name)


def test_sdxl_weights_and_editing_switch_embeddings_and_pooled(xl_pipe):
    import torch

    with torch.inference_mode():
        inputs = prompt_inputs(xl_pipe, "a (red:1.4) [cat:dog:2]", "dark BREAK", 4, 1)
        cat = prompt_inputs(xl_pipe, "a (red:1.4) cat", "dark BREAK", 4, 1).kwargs()
        dog = prompt_inputs(xl_pipe, "a (red:1.4) dog", "dark BREAK", 4, 1).kwargs()
    assert inputs.tensor_inputs() == ["prompt_embeds", "add_text_embeds"]
    seen = []
    handle = xl_pipe.unet.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append((kwargs["encoder_hidden_states"][-1].clone(),
                                                  kwargs["added_cond_kwargs"]["text_embeds"][-1].clone())),
        with_kwargs=True)
    inputs.start()
    try:
        with torch.inference_mode():
            image = xl_pipe(**inputs.kwargs(), num_inference_steps=4, width=32, height=32,
                            output_type="np", generator=torch.Generator("cpu").manual_seed(1),
                            callback_on_step_end=lambda pipe, i, t, kw: inputs.step_hook(pipe, i, kw),
                            callback_on_step_end_tensor_inputs=inputs.tensor_inputs()).images[0]
    finally:
        handle.remove()
    assert np.isfinite(image).all() and inputs.used == [0, 0, 1, 1]
    expected = [cat, cat, dog, dog]
    for (context, pooled), kwargs in zip(seen, expected, strict=True):
        assert torch.equal(context, kwargs["prompt_embeds"][0])
        assert torch.equal(pooled, kwargs["pooled_prompt_embeds"][0])
    assert not torch.equal(cat["pooled_prompt_embeds"], dog["pooled_prompt_embeds"])
