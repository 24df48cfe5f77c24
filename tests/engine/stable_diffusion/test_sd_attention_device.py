"""Attention capture and the GPU discipline (attention_capture.py): a model call adds no host
sync (the maps stay on the model's device and reach the host once, when the pipeline call
ends), and a compiled UNet is not captured (its graphs would recompile every run) but said so."""

from __future__ import annotations

import numpy as np
import pytest

from engine.reporting import Reporter
from engine.stable_diffusion.attention_capture import AttentionCapture, capturing, new_capture
from engine.stable_diffusion.attention_maps import COMPILED_UNET_NOTE, why_no_maps
from tests.engine.stable_diffusion.sd_fixtures import CPU, tiny_request

WORDS = ("a", "photo", "of", "a", "cat")


def host_syncs():
    """A TorchFunctionMode that lists every tensor call that waits for the device (on CUDA):
    to the host, a value read in Python, or a tensor's truth in an ``if``."""
    import torch
    from torch.overrides import TorchFunctionMode

    syncing = {torch.Tensor.cpu, torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.numpy,
               torch.Tensor.__bool__, torch.Tensor.__float__, torch.Tensor.__int__,
               torch.Tensor.__index__}

    class HostSyncs(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.seen = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func in syncing or (func is torch.Tensor.to and "cpu" in map(str, (
                    *args[1:], kwargs.get("device")))):
                self.seen.append(func.__name__)
            return func(*args, **kwargs)

    return HostSyncs()


def test_model_calls_add_no_host_sync_and_the_maps_reach_the_host_when_the_call_ends(
        tiny_folder, monkeypatch):
    import torch

    from engine.stable_diffusion.loading import get_pipeline

    pipe = get_pipeline(tiny_folder, CPU, Reporter()).pipe
    # The capture plans from the pipeline's step count, which a pipeline call sets; these
    # direct UNet calls make two (an earlier test's run may have left another count).
    monkeypatch.setattr(pipe, "_num_timesteps", 2, raising=False)
    unet = pipe.unet
    generator = torch.Generator().manual_seed(0)
    sample = torch.randn(2, 4, 16, 16, generator=generator)  # [unconditional, conditional]
    context = torch.randn(2, 77, unet.config.cross_attention_dim, generator=generator)

    def two_calls(capture):
        with torch.inference_mode(), capturing(capture, pipe, 0), host_syncs() as syncs:
            for t in (900, 500):
                unet(sample, t, encoder_hidden_states=context)
            on_host = None if capture is None else (list(capture.sums), list(capture.step_maps))
        return syncs.seen, on_host

    plain, _ = two_calls(None)
    capture = AttentionCapture(WORDS, 1, 1, 8, 2)
    captured, on_host = two_calls(capture)
    assert captured == plain  # the UNet's own, if any: the capture adds none
    assert on_host == ([], [])  # nothing moved to the host during the calls
    maps = capture.result()  # ...and everything once they ended
    assert maps.steps == (1, 2) and maps.step_maps[0].shape == (2, 1, 5, 16, 16)
    assert maps.step_maps[0].dtype == np.float32 and capture.sum_calls == [2]
    assert np.allclose(maps.mean_maps[0], maps.step_maps[0][:, 0].mean(axis=0), atol=1e-6)
    assert maps.levels == ((8, 8),) and maps.self_maps[0][0].shape == (2, 1, 64, 64)


def test_a_compiled_unet_is_not_captured_but_said_so(tiny_folder):
    from engine.stable_diffusion.generation import pipeline_for_mode
    from engine.stable_diffusion.loading import get_pipeline
    from engine.stable_diffusion.tokens import token_info
    from engine.stable_diffusion.types import PipelineOptions

    request = tiny_request(tiny_folder, capture_attention=True)
    try:
        # Creating the compiled wrapper is cheap; compiling happens at its first call (not here).
        loaded = get_pipeline(tiny_folder, PipelineOptions(device="cpu", compile_unet=True))
        pipe = pipeline_for_mode(loaded, request.mode)
        tokens = token_info(pipe.tokenizer, request.prompt)
        capture, problem = new_capture(request, loaded, pipe, tokens)
        assert capture is None and problem == COMPILED_UNET_NOTE
        assert "turn off 'Compile the UNet' to see them" in problem
        assert why_no_maps(("something else", problem)) == problem  # what the page shows
    finally:
        loaded = get_pipeline(tiny_folder, CPU)  # the other tests' eager model back
    capture, problem = new_capture(request, loaded, loaded.pipe, tokens)
    assert isinstance(capture, AttentionCapture) and problem == ""


def test_cli_refuses_attention_out_with_compile_before_loading(tmp_path, capsys):
    from playground_gui.app import main

    args = ["generate", "--model", str(tmp_path / "no-such-model"), "--prompt", "a cat",
            "--compile", "--device", "cpu", "--quiet", "--out", str(tmp_path / "image.png"),
            "--attention-out", str(tmp_path / "attention")]
    assert main(args) != 0
    error = capsys.readouterr().err
    assert "--attention-out does not go with --compile" in error
    assert "no-such-model" not in error  # refused before any model is looked for
    assert not (tmp_path / "image.png").exists()


@pytest.mark.parametrize("warnings, shown", [
    (("No attention maps for this model: …",), "No attention maps for this model: …"),
    ((COMPILED_UNET_NOTE,), COMPILED_UNET_NOTE),
    (("Recorded 2 of 5 steps",), ""),
])
def test_why_no_maps(warnings, shown):
    assert why_no_maps(warnings) == shown
