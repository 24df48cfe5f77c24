"""A tiny random-weight Stable Diffusion 1.x pipeline, saved the two ways users have models.

Used by the tests and by the packaged app's smoke test: it exercises the real loading and
generation code (diffusers folder, single ``.safetensors`` file) without downloading gigabytes.
Its images are noise-like (random weights); it is a plumbing check, not a model.
"""

from __future__ import annotations

import json
from pathlib import Path

# Words that get whole-word BPE tokens, so the token view shows merges, not only letters.
TINY_WORDS = ("a", "photo", "of", "cat", "dog", "red", "blue", "painting", "the", "in", "and")
FOLDER_NAME = "tiny-sd"
SINGLE_FILE_NAME = "tiny-sd.safetensors"
MAX_TOKENS = 77


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's byte → printable-symbol table (the standard GPT-2/CLIP byte-level BPE alphabet)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    symbols = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            symbols.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, symbols), strict=True))


def write_tokenizer(folder: Path) -> int:
    """vocab.json + merges.txt + tokenizer_config.json for a CLIPTokenizer; returns vocab size.

    transformers 5 needs all three; without ``model_max_length`` the pipeline overflows.
    """
    folder.mkdir(parents=True, exist_ok=True)
    alphabet = list(_bytes_to_unicode().values())
    vocab_list = alphabet + [symbol + "</w>" for symbol in alphabet]
    merges = []
    for word in TINY_WORDS:
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        current = pieces[0]
        for piece in pieces[1:]:
            pair = f"{current} {piece}"
            current += piece
            if pair not in merges:
                merges.append(pair)
                if current not in vocab_list:
                    vocab_list.append(current)
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(vocab_list)}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": MAX_TOKENS,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "do_lower_case": True,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return len(vocab)


def build_tiny_pipeline(seed: int = 0):
    """A StableDiffusionPipeline with tiny random weights (UNet 32/64, VAE 32/64, CLIP 2×32)."""
    import tempfile

    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from engine.runtime import import_torch

    torch = import_torch()
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=32,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=32,
        sample_size=64,
    )
    # Stable Diffusion 1.x's own scheduler settings.
    scheduler = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              num_train_timesteps=1000, set_alpha_to_one=False,
                              skip_prk_steps=True, steps_offset=1)
    with tempfile.TemporaryDirectory() as scratch:
        vocab_size = write_tokenizer(Path(scratch))
        tokenizer = CLIPTokenizer.from_pretrained(scratch)
    text_config = CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
        vocab_size=vocab_size, max_position_embeddings=MAX_TOKENS, projection_dim=32,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, layer_norm_eps=1e-5, hidden_act="quick_gelu",
    )
    text_encoder = CLIPTextModel(text_config)
    return StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


def save_tiny_pipeline(directory: str | Path, seed: int = 0) -> tuple[Path, Path]:
    """Write ``tiny-sd/`` (a diffusers folder) and ``tiny-sd.safetensors`` (original layout)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pipe = build_tiny_pipeline(seed)
    folder = directory / FOLDER_NAME
    pipe.save_pretrained(folder, safe_serialization=True)
    # The saved tokenizer may lack model_max_length in some versions; rewrite ours to be sure.
    write_tokenizer(folder / "tokenizer")
    single_file = directory / SINGLE_FILE_NAME
    save_original_layout(pipe, single_file)
    return folder, single_file


def save_original_layout(pipe, path: str | Path) -> Path:
    """One ``.safetensors`` in the CompVis/A1111 key layout that ``from_single_file`` reads."""
    from safetensors.torch import save_file

    from engine.stable_diffusion.checkpoint_layout import original_layout_state_dict

    state = original_layout_state_dict(pipe.unet, pipe.vae, pipe.text_encoder)
    save_file({key: value.contiguous() for key, value in state.items()}, str(path))
    return Path(path)
