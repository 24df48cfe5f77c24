"""Attention maps per prompt token and the self-attention probe (attention_capture.py) on the tiny
pipeline: the probabilities are the ones the default processor uses, capturing changes nothing,
the maps have the stated shapes and sums, and the cached pipeline gets its processors back."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.stable_diffusion.attention_capture import (
    AttentionCapture,
    CapturingProcessor,
    attention_probabilities,
    attention_support,
    capturing,
)
from engine.stable_diffusion.attention_maps import token_file_name
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request

PROMPT = "a photo of a cat, painting"
WORDS = ("a", "photo", "of", "a", "cat", ",", "painting")


@pytest.fixture(scope="module")
def tiny_pipe(tiny_folder):
    from engine.stable_diffusion.loading import get_pipeline

    return get_pipeline(tiny_folder, CPU, Reporter()).pipe


def test_the_probabilities_give_the_default_processors_output(tiny_pipe):
    import torch
    from diffusers.models.attention_processor import AttnProcessor2_0

    unet = tiny_pipe.unet
    block = unet.down_blocks[1].attentions[0].transformer_blocks[0]
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(2, 16, block.attn1.query_dim, generator=generator)
    context = torch.randn(2, 77, unet.config.cross_attention_dim, generator=generator)
    capture = AttentionCapture(WORDS, 1, 1, 1, 1)
    for attn, ctx in ((block.attn2, context), (block.attn1, None)):
        default = AttnProcessor2_0()(attn, hidden, encoder_hidden_states=ctx)
        probs = attention_probabilities(attn, hidden, ctx)  # [batch, heads, queries, keys]
        assert torch.allclose(probs.sum(-1), torch.ones(()), atol=1e-5)
        values = attn.to_v(hidden if ctx is None else ctx)
        values = values.view(2, -1, attn.heads, values.shape[-1] // attn.heads).transpose(1, 2)
        mixed = (probs @ values).transpose(1, 2).reshape(2, 16, -1)
        ours = attn.to_out[1](attn.to_out[0](mixed))
        assert torch.allclose(ours, default, atol=1e-5)
        # The capturing processor returns the wrapped processor's output unchanged.
        wrapped = CapturingProcessor(AttnProcessor2_0(), capture, cross=ctx is not None)
        assert torch.equal(wrapped(attn, hidden, encoder_hidden_states=ctx), default)


def _run(source, **changes):
    from engine.stable_diffusion.generation import run_generation

    values = dict(prompt=PROMPT, steps=3, scheduler="Euler", guidance_scale=7.5)
    values.update(changes)
    return run_generation(tiny_request(source, **values), Reporter())


def test_capturing_keeps_the_image_and_gives_maps_of_the_stated_shape(tiny_folder, tiny_pipe):
    before = dict(tiny_pipe.unet.attn_processors)
    plain = _run(tiny_folder, batch_size=2, steps=2)
    captured = _run(tiny_folder, batch_size=2, steps=2, capture_attention=True)
    for a, b in zip(plain.images, captured.images, strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    after = tiny_pipe.unet.attn_processors
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)  # nothing left on the pipe
    assert plain.attention is None

    maps = captured.attention
    assert maps.tokens == WORDS and maps.latent_size == (32, 32) and maps.steps == (1, 2)
    assert len(maps.mean_maps) == 2 and maps.mean_maps[0].shape == (7, 32, 32)
    assert maps.mean_maps[0].dtype == np.float32
    (steps,) = maps.step_maps
    assert steps.shape == (2, 2, 7, 32, 32)
    for shares in (maps.mean_maps[0], maps.mean_maps[1], steps[1, 0]):
        assert shares.min() >= 0 and shares.sum(axis=0).max() <= 1 + 1e-6
        assert shares.max() > 0
    # The mean over the steps is the mean of the single steps (every step kept here).
    assert np.allclose(maps.mean_maps[1], steps[:, 1].mean(axis=0), atol=1e-6)
    # The probe: a row of the kept level's self-attention, summing to 1.
    assert maps.levels == ((16, 16),)
    probe = maps.probe(1, 0, maps.row_for(2), 0.25, 0.75)
    assert probe.shape == (16, 16) and abs(float(probe.sum()) - 1) < 1e-4
    assert not np.allclose(probe, maps.probe(1, 0, maps.row_for(2), 0.9, 0.1))


def test_the_maps_are_the_conditional_halfs(tiny_folder):
    # The first model call sees the same latents with and without guidance: without it the
    # batch is the prompt's half only, so equal first-step maps show which half is captured.
    guided = _run(tiny_folder, capture_attention=True, steps=1).attention
    alone = _run(tiny_folder, capture_attention=True, steps=1, guidance_scale=1.0).attention
    assert np.allclose(guided.step_maps[0][0], alone.step_maps[0][0], atol=1e-6)


def test_processors_come_back_after_an_error(tiny_pipe):
    unet = tiny_pipe.unet
    before = dict(unet.attn_processors)
    with pytest.raises(RuntimeError), capturing(AttentionCapture(WORDS, 1, 1, 8, 2), tiny_pipe, 0):
        assert all(isinstance(p, CapturingProcessor) for p in unet.attn_processors.values())
        raise RuntimeError("boom")
    assert all(unet.attn_processors[name] is before[name] for name in before)
    assert not unet._forward_hooks and not unet._forward_pre_hooks


def test_a_model_without_unet_cross_attention_gets_a_sentence():
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    unet = UNet2DModel(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(32, 32),
                       down_block_types=("DownBlock2D", "AttnDownBlock2D"),
                       up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=8)
    sentence = attention_support(DDPMPipeline(unet=unet, scheduler=DDPMScheduler()))
    assert "no UNet with cross-attention" in sentence and "DDPMPipeline" in sentence


def test_heatmap_names():
    assert token_file_name(4, "cat") == "04-cat.png"
    assert token_file_name(5, ",") == "05-.png"
    assert token_file_name(12, "rock'n'roll") == "12-rocknroll.png"


def test_cli_attention_out_writes_the_npz_and_one_heatmap_per_token(tiny_folder, tmp_path, capsys):
    from PIL import Image

    from playground_gui.app import main

    folder = tmp_path / "attention"
    args = ["generate", "--model", tiny_folder.location, "--prompt", PROMPT, "--steps", "2",
            "--width", "64", "--height", "64", "--seed", "1", "--device", "cpu", "--quiet",
            "--out", str(tmp_path / "image.png"), "--attention-out", str(folder)]
    assert main(args) == 0
    with np.load(folder / "attention.npz", allow_pickle=False) as data:
        tokens, maps = data["tokens"], data["maps"]
    assert tokens.dtype.kind == "U" and tuple(tokens) == WORDS
    assert maps.dtype == np.float32 and maps.shape == (7, 32, 32)
    assert maps.min() >= 0 and maps.sum(axis=0).max() <= 1 + 1e-6
    names = sorted(p.name for p in folder.glob("*.png"))
    assert names == ["00-a.png", "01-photo.png", "02-of.png", "03-a.png", "04-cat.png",
                     "05-.png", "06-painting.png"]
    with Image.open(folder / "04-cat.png") as heatmap:
        assert heatmap.size == (64, 64)
    # The write rule: existing files are refused before any work, unless --overwrite.
    capsys.readouterr()
    args[args.index(str(tmp_path / "image.png"))] = str(tmp_path / "again.png")
    assert main(args) != 0
    assert "attention.npz already exists" in capsys.readouterr().err
    assert not (tmp_path / "again.png").exists()


def test_single_steps_keep_to_the_budget_and_the_means_cover_every_step(tiny_folder,
                                                                         monkeypatch):
    from engine.stable_diffusion import attention_capture

    # Tiny run: 7 tokens × 32×32 latent pixels (28 KB of means) and, a step, those maps plus the
    # 16×16 level's 256×256 self-attention (291 KB in float32). In 512 KB, float16 and every
    # second step (1, 3 and the last, 4) fit.
    monkeypatch.setattr(attention_capture, "MB", 256 * 1024)
    common = dict(capture_attention=True, steps=4, guidance_scale=1.0)
    full = _run(tiny_folder, **common).attention
    thin = _run(tiny_folder, **common, attention_budget_mb=2).attention
    assert thin.steps == (1, 3, 4) and thin.step_maps[0].dtype == np.float16
    kept = sum(a.nbytes for a in thin.step_maps + thin.mean_maps) + sum(
        a.nbytes for level in thin.self_maps for a in level)
    assert kept <= 512 * 1024
    assert "float16" in thin.note and "2 MB attention budget" in thin.note
    assert np.allclose(thin.mean_maps[0], full.mean_maps[0], atol=1e-6)  # all four steps
