"""The digits U-Net from the inside: its blocks, and what each block outputs at a step of a run.

``unet_blocks`` walks the loaded ``UNet2DModel`` in the order its ``forward`` runs the blocks
(the rules of diffusers' ``DownBlock2D``/``AttnDownBlock2D``/``UNetMidBlock2D``/``UpBlock2D``):
down path (each ResNet, its attention, then the downsampler; each of these outputs, after
``conv_in``'s, is kept for a skip connection), the middle, and the up path (each ResNet takes
the newest kept output, concatenated to its input). Channels and sizes come from one forward
pass with hooks, so the diagram is the model's real structure, not a picture.

``feature_maps`` answers one (step, sample) of a recorded run: the run is replayed once (same
seed, sampler and settings give the same x_t at every step, bit for bit) and its x_t kept in a
small cache; then the UNet runs on x_t at that step with a forward hook on every block. The
page's recorded x_t cannot be used directly: it is uint8, clipped to [−1, 1], while x_t at the
noisy steps spreads to ±4. Hooks are installed for that one call and always removed.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from engine.digits.types import (
    FeatureMapsRequest,
    FeatureMapsResult,
    ReverseRequest,
    UNetBlock,
    UNetStructure,
    UNetStructureRequest,
)
from engine.errors import Cancelled, UserFacingError

EMBEDDING = "embedding"
INPUT = "x_t"


@dataclass(frozen=True)
class BlockSpec:
    """A block before its shape is known: key, kind, path, title, module (None: no module)."""

    key: str
    kind: str
    path: str
    title: str
    module: object
    skip_from: str | None = None
    takes_embedding: bool = False


def unet_blocks(unet) -> list[BlockSpec]:
    """Every block of ``unet`` in forward order, with its skip connection and embedding input."""
    specs = [BlockSpec(INPUT, "input", "in", "x_t (input)", None),
             BlockSpec(EMBEDDING, "embedding", EMBEDDING, "time + class embedding", None),
             BlockSpec("conv_in", "conv", "in", "conv_in", unet.conv_in)]
    kept = ["conv_in"]  # the outputs the up path concatenates, newest last

    def add(key, kind, path, title, module, **more):
        specs.append(BlockSpec(key, kind, path, title, module, **more))

    for i, block in enumerate(unet.down_blocks):
        attentions = list(getattr(block, "attentions", None) or [])
        for j, resnet in enumerate(block.resnets):
            key = f"down_blocks.{i}.resnets.{j}"
            add(key, "resnet", "down", f"down {i} · ResNet {j}", resnet, takes_embedding=True)
            if j < len(attentions) and attentions[j] is not None:
                key = f"down_blocks.{i}.attentions.{j}"
                add(key, "attention", "down", f"down {i} · attention {j}", attentions[j])
            kept.append(key)
        for j, sampler in enumerate(getattr(block, "downsamplers", None) or []):
            key = f"down_blocks.{i}.downsamplers.{j}"
            add(key, "downsample", "down", f"down {i} · downsample", sampler)
            kept.append(key)
    mid = unet.mid_block
    if mid is not None:
        add("mid_block.resnets.0", "resnet", "mid", "mid ResNet 0", mid.resnets[0],
            takes_embedding=True)
        for j, (attention, resnet) in enumerate(zip(mid.attentions, mid.resnets[1:], strict=True)):
            if attention is not None:
                add(f"mid_block.attentions.{j}", "attention", "mid", f"mid attention {j}",
                    attention)
            add(f"mid_block.resnets.{j + 1}", "resnet", "mid", f"mid ResNet {j + 1}", resnet,
                takes_embedding=True)
    for i, block in enumerate(unet.up_blocks):
        attentions = list(getattr(block, "attentions", None) or [])
        for j, resnet in enumerate(block.resnets):
            if not kept:
                raise UserFacingError("This U-Net's up path takes more skip connections than "
                                      "its down path makes; the diagram cannot follow it.")
            add(f"up_blocks.{i}.resnets.{j}", "resnet", "up", f"up {i} · ResNet {j}", resnet,
                skip_from=kept.pop(), takes_embedding=True)
            if j < len(attentions) and attentions[j] is not None:
                add(f"up_blocks.{i}.attentions.{j}", "attention", "up", f"up {i} · attention {j}",
                    attentions[j])
        for j, sampler in enumerate(getattr(block, "upsamplers", None) or []):
            add(f"up_blocks.{i}.upsamplers.{j}", "upsample", "up", f"up {i} · upsample", sampler)
    if kept:
        raise UserFacingError("This U-Net's down path keeps outputs its up path never uses; the "
                              "diagram cannot follow it.")
    add("conv_out", "output", "out", "conv_out → ε̂", unet.conv_out)
    return specs


def _first_tensor(output):
    return output[0] if isinstance(output, (tuple, list)) else output


@contextmanager
def block_hooks(unet, specs: list[BlockSpec], sample: int = 0):
    """Forward hooks on every block while the ``with`` runs; yields the dict they fill (key →
    that sample's output as a CPU float32 numpy array). Removed on exit, also on errors."""
    captured: dict[str, np.ndarray] = {}
    handles = []

    def hook_for(key):
        def hook(module, inputs, output):
            tensor = _first_tensor(output)
            captured[key] = tensor[sample].detach().float().cpu().numpy()
        return hook

    try:
        for spec in specs:
            if spec.module is not None:
                handles.append(spec.module.register_forward_hook(hook_for(spec.key)))
        embeddings = {}
        for name in ("time_embedding", "class_embedding"):
            module = getattr(unet, name, None)
            if module is not None:
                handles.append(module.register_forward_hook(
                    lambda m, i, out, name=name: embeddings.__setitem__(
                        name, out[sample].detach().float().cpu().numpy())))
        yield captured
        if "time_embedding" in embeddings:
            time_emb = embeddings["time_embedding"]
            class_emb = embeddings.get("class_embedding", np.zeros_like(time_emb))
            captured[EMBEDDING] = np.stack([time_emb, class_emb, time_emb + class_emb])[:, None, :]
    finally:
        for handle in handles:
            handle.remove()


def run_with_hooks(model, x_in, timestep, label: int, sample: int = 0):
    """One UNet call on ``x_in[sample]`` with the class token ``label``; every block's output."""
    import torch

    unet = model.unet
    x = x_in[sample:sample + 1]
    labels = torch.full((1,), label, dtype=torch.long, device=x.device)
    specs = unet_blocks(unet)
    with torch.inference_mode(), block_hooks(unet, specs) as captured:
        unet(x, timestep, class_labels=labels)
    captured[INPUT] = x[0].detach().float().cpu().numpy()
    return specs, captured


def structure_from(specs: list[BlockSpec], maps: dict[str, np.ndarray], unet) -> UNetStructure:
    blocks = []
    for spec in specs:
        shape = maps[spec.key].shape
        blocks.append(UNetBlock(spec.key, spec.kind, spec.path, spec.title, int(shape[0]),
                                int(shape[1]), int(shape[2]), spec.skip_from,
                                spec.takes_embedding))
    return UNetStructure(tuple(blocks), int(sum(p.numel() for p in unet.parameters())))


def unet_structure(request: UNetStructureRequest, reporter) -> UNetStructure:
    """Job handler: the blocks of the digits U-Net with their real output shapes."""
    from engine.device import current_device
    from engine.digits.model import cached_model
    from engine.runtime import import_torch

    torch = import_torch()
    model = cached_model(request.model_dir, current_device())
    size = model.image_size
    x = torch.zeros((1, model.unet.config.in_channels, size, size), device=model.unet.device)
    specs, maps = run_with_hooks(model, x, 999, model.null_class)
    return structure_from(specs, maps, model.unet)


# -- replaying a run --------------------------------------------------------------------------
@dataclass
class Trajectory:
    key: tuple
    x_in: list  # per model call: the UNet's input (B×1×H×W, CPU float32 tensor)
    timesteps: list  # per model call: the timestep tensor the UNet got


_TRAJECTORY: dict[str, Trajectory] = {}  # one run at a time: the page shows one


def _run_key(run: ReverseRequest, model) -> tuple:
    noise = b"" if run.initial_noise is None else hashlib.sha256(
        np.ascontiguousarray(run.initial_noise, dtype=np.float32).tobytes()).digest()
    return (run, noise, id(model))


def replay(run: ReverseRequest, calls: int, model, reporter) -> tuple[Trajectory, bool]:
    """The x_t the UNet saw at the first ``calls`` model calls of ``run`` (cached: the second
    question about the same run costs nothing); True when it had to be replayed now."""
    from engine.digits.sampling import ReverseRun, class_labels_for, initial_noise, scheduler_for

    key = _run_key(run, model)
    cached = _TRAJECTORY.get("run")
    if cached is not None and cached.key == key and len(cached.x_in) >= calls:
        return cached, False
    device = str(model.unet.device)
    scheduler = scheduler_for(run.sampler, model.scheduler_config)
    noise, generator = initial_noise(run, model.image_size, device)
    steps = iter(ReverseRun(model, scheduler, run.steps, class_labels_for(run, device),
                            run.guidance, noise, run.eta, generator))
    trajectory = Trajectory(key, [], [])
    try:
        for step in steps:
            trajectory.x_in.append(step.x_t.detach().float().cpu().clone())
            # The scheduler's own timestep tensor: a float t (Euler, LMS) given to the UNet as a
            # Python number would be truncated to an integer.
            trajectory.timesteps.append(scheduler.timesteps[step.index].detach().cpu().clone())
            reporter.progress(len(trajectory.x_in), calls, "replaying the run")
            if len(trajectory.x_in) >= calls:
                break
            if reporter.cancelled:
                raise Cancelled(None)
    finally:
        steps.close()  # leaves the run's inference mode
    if len(trajectory.x_in) < calls:
        raise UserFacingError("The run has fewer steps than asked for.")
    _TRAJECTORY["run"] = trajectory
    return trajectory, True


def feature_maps(request: FeatureMapsRequest, reporter) -> FeatureMapsResult:
    """Job handler: every block's output at one step of a run, for one sample."""
    from engine.device import current_device
    from engine.digits.model import cached_model
    from engine.runtime import import_torch

    import_torch()
    device = current_device()
    run = request.run
    model = cached_model(run.model_dir, device)
    trajectory, replayed = replay(run, request.replay_steps, model, reporter)
    timestep = trajectory.timesteps[request.step].to(model.unet.device)
    x_in = trajectory.x_in[request.step].to(model.unet.device)
    conditional = request.branch == "conditional" and run.label is not None
    label = run.label if conditional else model.null_class
    specs, maps = run_with_hooks(model, x_in, timestep, label, request.sample)
    return FeatureMapsResult(request, structure_from(specs, maps, model.unet), float(timestep),
                             int(label), maps, replayed, device)
