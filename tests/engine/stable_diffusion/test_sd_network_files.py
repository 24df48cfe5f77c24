"""Prompt tags, FILE[:WEIGHT] arguments, folder listing and A1111 hashes (torch-free)."""

from __future__ import annotations

import hashlib
import json

import pytest

from engine.errors import UserFacingError
from engine.stable_diffusion.network_files import (
    find_lora,
    hashes_text,
    lora_hash,
    parse_hashes_text,
    parse_weighted_path,
    scan_folder,
)
from engine.stable_diffusion.prompt_syntax import split_extra_networks


def test_lora_tags_are_taken_out_of_the_prompt():
    assert split_extra_networks("a cat <lora:ink:0.8>, <lora:Pen Style>") == (
        "a cat , ", [("lora", "ink", 0.8), ("lora", "Pen Style", 1.0)])
    assert split_extra_networks("<hypernet:x:-1.5e-1> plain") == (
        " plain", [("hypernet", "x", -0.15)])
    assert split_extra_networks("no tags (here:1.2)") == ("no tags (here:1.2)", [])


@pytest.mark.parametrize("text, expected", [
    ("ink.safetensors", ("ink.safetensors", 1.0)),
    ("ink.safetensors:0.7", ("ink.safetensors", 0.7)),
    ("C:\\loras\\ink.safetensors", ("C:\\loras\\ink.safetensors", 1.0)),
    ("C:\\loras\\ink.safetensors:-.5", ("C:\\loras\\ink.safetensors", -0.5)),
    ("/a:b/ink.safetensors", ("/a:b/ink.safetensors", 1.0)),
])
def test_the_weight_is_what_follows_the_last_colon_when_it_is_a_number(text, expected):
    assert parse_weighted_path(text) == expected


def _safetensors(path, keys):
    header = json.dumps({k: {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
                         for i, k in enumerate(keys)}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4 * len(keys))
    return path


def test_folder_listing_tells_loras_embeddings_and_pickles_apart(tmp_path):
    _safetensors(tmp_path / "ink.safetensors", ["lora_unet_a.lora_down.weight",
                                                "lora_unet_a.lora_up.weight"])
    (tmp_path / "sub").mkdir()
    _safetensors(tmp_path / "sub" / "style.safetensors", ["emb_params"])
    (tmp_path / "old.pt").write_bytes(b"not opened")
    (tmp_path / "broken.safetensors").write_bytes(b"\xff" * 20)
    kinds = {e.name: e.kind for e in scan_folder(tmp_path)}
    assert kinds == {"ink": "lora", "style": "embedding", "old": "pickle"}
    assert find_lora(str(tmp_path), "INK").name == "ink.safetensors"
    with pytest.raises(UserFacingError, match="No LoRA called"):
        find_lora(str(tmp_path), "missing")
    with pytest.raises(UserFacingError, match="no LoRA folder"):
        find_lora(None, "ink")


def test_lora_hash_is_a1111s_hash_of_the_tensor_data(tmp_path):
    path = _safetensors(tmp_path / "ink.safetensors", ["lora_unet_a.lora_down.weight"])
    data = path.read_bytes()
    start = 8 + int.from_bytes(data[:8], "little")
    assert lora_hash(path) == hashlib.sha256(data[start:]).hexdigest()[:12]
    text = hashes_text([("ink", "0123456789ab"), ("pen", "ba9876543210")])
    assert parse_hashes_text(text) == {"ink": "0123456789ab", "pen": "ba9876543210"}
