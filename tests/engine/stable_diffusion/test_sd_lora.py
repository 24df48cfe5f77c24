"""LoRAs and embeddings (issue 16 §2) on the tiny pipeline, with a LoRA made here in the kohya
layout: weight 0 = the base image, unloading = the base image, another weight = another image;
pickles refused before they are opened."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

from engine.errors import UserFacingError
from engine.fixtures.tiny_lora import save_embedding, save_kohya_lora
from engine.reporting import Reporter
from engine.stable_diffusion.generation import run_generation
from engine.stable_diffusion.loading import get_pipeline
from engine.stable_diffusion.lora import check_options
from engine.stable_diffusion.lora_delta import lora_delta_job
from engine.stable_diffusion.network_files import lora_hash
from engine.stable_diffusion.types import LoraDeltaRequest, NetworkFile, PipelineOptions
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request


@pytest.fixture(scope="module")
def lora_dir(tmp_path_factory, tiny_folder):
    folder = tmp_path_factory.mktemp("loras")
    save_kohya_lora(tiny_folder.location, folder / "ink.safetensors")
    save_embedding(tiny_folder.location, folder / "mystyle.safetensors")
    return folder


def test_lora_weight_zero_and_unloading_give_the_base_image(tiny_folder, lora_dir):
    lora = str(lora_dir / "ink.safetensors")
    base = run_generation(tiny_request(tiny_folder), Reporter()).images[0]
    loaded = get_pipeline(tiny_folder, CPU)
    zero = run_generation(tiny_request(tiny_folder, loras=(NetworkFile(lora, 0.0),)), Reporter())
    assert np.array_equal(zero.images[0], base)
    assert loaded.networks.adapters  # the LoRA layers are there, at weight 0
    assert zero.parameters["loras"] == [{"name": "ink", "weight": 0.0, "hash": lora_hash(lora)}]
    one = run_generation(tiny_request(tiny_folder, loras=(NetworkFile(lora, 1.0),)), Reporter())
    assert not np.array_equal(one.images[0], base)
    # A request without LoRAs: the layers are gone, the base image exactly, no reload.
    again = run_generation(tiny_request(tiny_folder), Reporter())
    assert get_pipeline(tiny_folder, CPU) is loaded and not loaded.networks.adapters
    assert np.array_equal(again.images[0], base)
    assert "loras" not in again.parameters


def test_embedding_adds_its_trigger_word_and_is_removed_after(tiny_folder, lora_dir):
    embedding = NetworkFile(str(lora_dir / "mystyle.safetensors"))
    styled = run_generation(tiny_request(tiny_folder, prompt="a mystyle cat",
                                         embeddings=(embedding,)), Reporter())
    assert "mystyle" in styled.tokens.tokens
    assert styled.parameters["embeddings"][0]["name"] == "mystyle"
    plain = run_generation(tiny_request(tiny_folder, prompt="a mystyle cat"), Reporter())
    assert "mystyle" not in plain.tokens.tokens  # the word is plain BPE pieces again
    assert not np.array_equal(plain.images[0], styled.images[0])


def test_a_pickled_lora_is_refused_without_being_unpickled(tiny_folder, tmp_path):
    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"lora_unet_x.lora_down.weight": Payload()}))
    for field in ("loras", "embeddings"):
        with pytest.raises(UserFacingError, match="pickle"):
            run_generation(tiny_request(tiny_folder, **{field: (NetworkFile(str(path)),)}),
                           Reporter())
    assert not marker.exists()


def test_lora_with_a_compiled_unet_or_fused_qkv_is_refused_with_a_sentence():
    check_options(PipelineOptions(compile_unet=True), wanted=False)  # no LoRA: fine
    with pytest.raises(UserFacingError, match="compiled UNet"):
        check_options(PipelineOptions(compile_unet=True), wanted=True)
    with pytest.raises(UserFacingError, match="fused QKV"):
        check_options(PipelineOptions(fuse_qkv=True), wanted=True)


def test_what_changed_measures_each_adapted_layer(tiny_folder, lora_dir):
    result = lora_delta_job(LoraDeltaRequest(NetworkFile(str(lora_dir / "ink.safetensors")),
                                             tiny_folder, CPU), Reporter())
    assert result.name == "ink"
    assert any(name.startswith("unet.") and name.endswith("attn1.to_q") for name in result.layers)
    assert any(name.startswith("text_encoder.") for name in result.layers)
    assert len(result.layers) == len(result.relative) == len(result.ranks)
    assert set(result.ranks) == {4} and np.all(result.relative > 0)
    assert np.all(np.isfinite(result.relative))


def test_generate_command_takes_loras_embeddings_and_a_lora_folder(tiny_folder, lora_dir,
                                                                  tmp_path):
    from engine.png.chunks import read_png_metadata
    from playground_gui.app import main

    lora = lora_dir / "ink.safetensors"
    common = ["generate", "--model", tiny_folder.location, "--steps", "2", "--width", "64",
              "--height", "64", "--seed", "7", "--device", "cpu", "--quiet"]
    assert main(common + ["--prompt", "a mystyle cat <lora:ink:0.6>", "--lora-dir",
                          str(lora_dir), "--lora", f"{lora}:0.25", "--embedding",
                          str(lora_dir / "mystyle.safetensors"),
                          "--out", str(tmp_path / "a.png")]) == 0
    metadata = read_png_metadata(tmp_path / "a.png")
    text = metadata.parameters
    assert text.prompt == "a mystyle cat <lora:ink:0.6>"  # verbatim
    # One file asked for twice: one LoRA with the weights added up.
    assert text.extra["Lora hashes"] == f"ink: {lora_hash(lora)}"
    assert text.extra["Lora weights"] == "ink: 0.85"
    assert text.extra["TI hashes"].startswith("mystyle: ")
    record = metadata.request
    assert record["loras"] == [{"path": f"{lora}", "weight": 0.25, "allow_pickle": False}]
    assert record["lora_dir"] == str(lora_dir)
    # The tag is not read by the text encoder; the tag's LoRA is the --lora file's.
    plain = run_generation(tiny_request(tiny_folder, prompt="a mystyle cat", embeddings=(
        NetworkFile(str(lora_dir / "mystyle.safetensors")),), loras=(NetworkFile(str(lora), 0.85),)),
        Reporter())
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png").convert("RGB")),
                          plain.images[0])
    # A missing file is one sentence before anything loads, not a traceback.
    assert main(common + ["--prompt", "a cat", "--lora", str(tmp_path / "none.safetensors"),
                          "--out", str(tmp_path / "b.png")]) != 0
    assert not (tmp_path / "b.png").exists()


def test_a_lora_for_another_model_is_a_sentence_and_leaves_nothing_behind(tiny_folder,
                                                                         tmp_path):
    from safetensors.torch import save_file

    torch = pytest.importorskip("torch")
    key = "lora_unet_down_blocks_7_attentions_0_transformer_blocks_0_attn1_to_q"
    path = tmp_path / "other.safetensors"
    save_file({f"{key}.lora_down.weight": torch.zeros(4, 32),
               f"{key}.lora_up.weight": torch.zeros(32, 4)}, str(path))
    with pytest.raises(UserFacingError, match="not a LoRA for this model"):
        run_generation(tiny_request(tiny_folder, loras=(NetworkFile(str(path)),)), Reporter())
    loaded = get_pipeline(tiny_folder, CPU)
    assert not loaded.networks.adapters and not loaded.pipe.get_list_adapters()
