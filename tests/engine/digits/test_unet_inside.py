"""The digits U-Net from the inside (issue 14, section 6): its blocks, hooks and feature maps."""

from __future__ import annotations

import numpy as np
import pytest

from engine.digits.types import FeatureMapsRequest, ReverseRequest, UNetStructureRequest
from engine.images import to_uint8
from engine.jobs import run_job
from engine.reporting import Reporter


@pytest.fixture(scope="module")
def tiny():
    from engine.digits.model import new_model

    model = new_model(tiny=True, seed=3)
    model.unet.eval()
    return model


def test_hooks_capture_every_block_and_the_skips_pair_as_the_forward_pass_does(tiny):
    import torch

    from engine.digits.unet_inside import block_hooks, unet_blocks

    unet = tiny.unet
    specs = unet_blocks(unet)
    up_inputs = {}
    pre = [spec.module.register_forward_pre_hook(
        lambda m, args, key=spec.key: up_inputs.__setitem__(key, args[0][0].clone()))
        for spec in specs if spec.skip_from]
    x = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode(), block_hooks(unet, specs) as maps:
        out = unet(x, 500, class_labels=torch.tensor([4])).sample
    for handle in pre:
        handle.remove()
    channels = list(unet.config.block_out_channels)  # [8, 16, 16]
    assert maps["conv_in"].shape == (channels[0], 16, 16)
    assert maps["down_blocks.0.downsamplers.0"].shape == (channels[0], 8, 8)
    assert maps["down_blocks.1.attentions.0"].shape == (channels[1], 8, 8)
    assert maps["mid_block.resnets.1"].shape == (channels[2], 4, 4)
    assert maps["up_blocks.1.upsamplers.0"].shape == (channels[1], 16, 16)
    assert np.array_equal(maps["conv_out"], out[0].numpy())
    assert maps["embedding"].shape == (3, 1, unet.config.block_out_channels[0] * 4)
    skips = [spec for spec in specs if spec.skip_from]
    assert len(skips) == sum(len(block.resnets) for block in unet.up_blocks)
    for spec in skips:
        # An up ResNet's input is (what came up the path, the skip's output) concatenated.
        skip = maps[spec.skip_from]
        got = up_inputs[spec.key].numpy()
        assert got.shape[1:] == skip.shape[1:]
        assert np.array_equal(got[-skip.shape[0]:], skip), spec.key


def test_removing_the_hooks_leaves_the_model_unchanged(tiny):
    import torch

    from engine.digits.unet_inside import block_hooks, unet_blocks

    unet = tiny.unet
    x = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([1, 10])
    weights = {name: tensor.clone() for name, tensor in unet.state_dict().items()}
    with torch.inference_mode():
        before = unet(x, 300, class_labels=labels).sample
        with pytest.raises(RuntimeError), block_hooks(unet, unet_blocks(unet)):
            raise RuntimeError("an error while hooked")
        with block_hooks(unet, unet_blocks(unet)) as maps:
            hooked = unet(x, 300, class_labels=labels).sample
        after = unet(x, 300, class_labels=labels).sample
    assert len(maps) > 20
    assert not any(module._forward_hooks for module in unet.modules())
    assert torch.equal(before, hooked) and torch.equal(before, after)
    assert all(torch.equal(weights[name], tensor) for name, tensor in unet.state_dict().items())


def test_feature_maps_replay_the_run_and_answer_later_steps_from_the_cache():
    run = ReverseRequest(label=5, guidance=1.0, sampler="ddim", steps=6, seed=11, batch_size=2)
    recorded = run_job(run, Reporter())
    structure = run_job(UNetStructureRequest(), Reporter())
    first = run_job(FeatureMapsRequest(run, step=2, sample=1, replay_steps=6), Reporter())
    assert first.replayed and first.label == 5
    assert first.timestep == pytest.approx(float(recorded.timesteps[2]))
    assert first.structure == structure
    # The replayed x_t is the recorded one, and conv_out's output is the recorded ε̂ (guidance
    # 1 is the conditional branch alone); at most one grey level apart (batch of 2 vs 1).
    assert np.array_equal(to_uint8(first.maps["x_t"][0]), recorded.x_t[2][1])
    eps = to_uint8(first.maps["conv_out"][0], -3.0, 3.0).astype(int)
    assert np.abs(eps - recorded.noise_pred[2][1]).max() <= 1
    for block in structure.blocks:
        assert first.maps[block.key].shape == (block.channels, block.height, block.width)
    later = run_job(FeatureMapsRequest(run, step=5, sample=0, replay_steps=6,
                                       branch="unconditional"), Reporter())
    assert not later.replayed and later.label == 10
    assert np.array_equal(to_uint8(later.maps["x_t"][0]), recorded.x_t[5][0])
    assert not np.array_equal(later.maps["embedding"][1], first.maps["embedding"][1])
    with pytest.raises(ValueError, match="recorded steps"):
        FeatureMapsRequest(run, step=6, replay_steps=6)
