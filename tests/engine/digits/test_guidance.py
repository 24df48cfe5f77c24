"""The digits model's guidance taken apart (engine/digits/guidance.py): both branches of every
step, the cut-off halving the UNet batch, rescale 0 leaving the samples as they were."""

from __future__ import annotations

import numpy as np
import pytest

from engine.digits.types import ReverseRequest
from engine.reporting import Reporter


@pytest.fixture(scope="module")
def tiny_digits(tmp_path_factory):
    """An untrained tiny UNet saved as a model folder (mechanics only: no digits drawn)."""
    from engine.digits.model import new_model, save_model

    folder = tmp_path_factory.mktemp("tiny-digits")
    model = new_model(tiny=True, seed=3)
    model.unet.eval()
    save_model(model, folder)
    return str(folder)


@pytest.mark.parametrize("guidance, label", [(2.5, 3), (1.0, 3), (0.0, 3), (2.5, None)])
def test_the_branches_give_exactly_the_old_guided_prediction(guidance, label):
    import torch

    from engine.digits.guidance import guidance_branches
    from engine.digits.model import new_model
    from engine.digits.sampling import guided_noise

    model = new_model(tiny=True, seed=1)
    x = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    labels = None if label is None else torch.tensor([label, label])
    with torch.inference_mode():
        old = guided_noise(model.unet, x, 500, labels, guidance, model.null_class)
        new, unconditional, conditional = guidance_branches(
            model.unet, x, 500, labels, guidance, model.null_class)
    assert torch.equal(old, new)
    both = label is not None and guidance not in (0.0, 1.0)
    assert (unconditional is not None, conditional is not None) == (
        (True, True) if both else (label is None or guidance == 0.0, label is not None and
                                   guidance == 1.0))


def test_the_cutoff_halves_the_batch_and_rescale_changes_the_samples(tiny_digits):
    from engine.digits.model import cached_model
    from engine.digits.sampling import run_reverse

    common = dict(label=3, guidance=2.5, sampler="ddim", steps=4, batch_size=2,
                  model_dir=tiny_digits)
    unet = cached_model(tiny_digits, "cpu").unet
    batches: list[int] = []
    handle = unet.register_forward_pre_hook(lambda m, args: batches.append(args[0].shape[0]))
    try:
        cut = run_reverse(ReverseRequest(**common, guidance_cutoff=0.5), Reporter())
    finally:
        handle.remove()
    assert batches == [4, 4, 2, 2] and cut.guided_steps == 2
    assert [step.unconditional is None for step in cut.guidance] == [False, False, True, True]
    norms = np.stack([step.norms for step in cut.guidance])  # steps × 4 × batch
    assert np.isfinite(norms[:2]).all() and np.isnan(norms[2:, [0, 2]]).all()
    assert np.allclose(norms[2:, 3], norms[2:, 1])  # after it, ε̂ is the conditional one

    plain = run_reverse(ReverseRequest(**common), Reporter())
    zero = run_reverse(ReverseRequest(**common, guidance_rescale=0.0), Reporter())
    rescaled = run_reverse(ReverseRequest(**common, guidance_rescale=0.7), Reporter())
    assert np.array_equal(plain.samples, zero.samples)
    assert not np.allclose(plain.samples, rescaled.samples)
    assert not np.allclose(plain.samples, cut.samples)
    step = plain.guidance[1]
    assert step.difference.shape == (2, 16, 16) and step.pred_conditional.dtype == np.uint8
    assert rescaled.parameters["guidance_rescale"] == 0.7 and "guidance_rescale" not in \
        plain.parameters
    with pytest.raises(ValueError, match="cut-off"):
        ReverseRequest(guidance_cutoff=1.5)


def test_sample_command_options_reach_the_png(tiny_digits, tmp_path):
    from engine.png.chunks import read_png_metadata
    from playground_gui.app import main

    out = tmp_path / "grid.png"
    assert main(["sample", "--model-dir", tiny_digits, "--label", "5", "--steps", "2", "--n",
                 "2", "--guidance", "3", "--guidance-cutoff", "0.5", "--guidance-rescale",
                 "0.7", "--out", str(out)]) == 0
    metadata = read_png_metadata(out)
    assert metadata.request["guidance_cutoff"] == 0.5
    assert metadata.request["guidance_rescale"] == 0.7
    assert metadata.parameters.extra["CFG cut-off"] == "0.5"
    assert metadata.parameters.extra["CFG rescale"] == "0.7"
    assert main(["sample", "--model-dir", tiny_digits, "--guidance-rescale", "2", "--out",
                 str(tmp_path / "bad.png")]) == 2
