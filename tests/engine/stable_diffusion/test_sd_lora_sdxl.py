"""LoRAs and embeddings on SDXL (two text encoders): a kohya LoRA with lora_te1_/lora_te2_ keys
at weight 0 and an embedding with clip_l/clip_g leave "a cat" exactly the base image; without
them every trace is gone (the exact base image after unloading: test_sd_lora.py, SD 1.x)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.fixtures.tiny_lora import save_embedding, save_kohya_lora
from engine.fixtures.tiny_sdxl import save_tiny_sdxl_pipeline
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.lora import apply_networks
from engine.stable_diffusion.types import ModelSource, NetworkFile
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


@pytest.fixture(scope="module")
def sdxl(tmp_path_factory):
    folder = save_tiny_sdxl_pipeline(tmp_path_factory.mktemp("tiny-sdxl"))
    return (ModelSource(str(folder)), save_kohya_lora(folder, folder / "ink.safetensors"),
            save_embedding(folder, folder / "mystyle.safetensors"))


def test_sdxl_lora_at_weight_zero_and_embedding_then_unloaded(sdxl):
    source, lora, embedding = sdxl
    base = run_generation(tiny_request(source), Reporter())
    loaded = get_pipeline(source, CPU)
    assert type(loaded.pipe).__name__ == "StableDiffusionXLPipeline"
    with_both = run_generation(tiny_request(source, loras=(NetworkFile(str(lora), 0.0),),
                                            embeddings=(NetworkFile(str(embedding)),)), Reporter())
    assert np.array_equal(with_both.images[0], base.images[0])
    adapters = loaded.pipe.get_list_adapters()
    assert set(adapters) == {"unet", "text_encoder", "text_encoder_2"}  # te1 and te2 keys
    for tokenizer in (loaded.pipe.tokenizer, loaded.pipe.tokenizer_2):
        assert "mystyle" in tokenizer.get_added_vocab()  # clip_l and clip_g
    apply_networks(loaded, tiny_request(source))  # what the next run without them does first
    assert not loaded.pipe.get_list_adapters() and not loaded.networks.embeddings
    for tokenizer in (loaded.pipe.tokenizer, loaded.pipe.tokenizer_2):
        assert "mystyle" not in tokenizer.get_added_vocab()
