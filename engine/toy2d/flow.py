"""Flow matching's reverse process: integrate dx/dt = v̂(x, t) from t = 1 (noise) to t = 0.

diffusers' FlowMatchEulerDiscreteScheduler / FlowMatchHeunDiscreteScheduler do the stepping
(σ = t, timesteps = 1000·t, the network's time input; ``shift`` = 1: the plain rectified-flow
grid from t = 1 down to 1/1000, then a last step to 0). Heun calls the network twice per step
(the second call at the Euler-predicted point); a frame is kept only after a whole step.
"""

from __future__ import annotations

import numpy as np

from engine.runtime import import_torch
from engine.toy2d.model import model_from_toy
from engine.toy2d.types import DEFAULT_FLOW_STEPS, FLOW_SAMPLERS, ToyModel

#: The network's time input is 1000·t, as diffusers' flow-matching schedulers give it (the
#: sinusoidal embedding then sees the same range as the DDPM family's integer timesteps).
FLOW_TIME_SCALE = 1000


def flow_scheduler(sampler: str):
    import diffusers

    return getattr(diffusers, FLOW_SAMPLERS[sampler])(num_train_timesteps=FLOW_TIME_SCALE,
                                                      shift=1.0)


def reverse_flow(model: ToyModel, sampler: str, noise, num_inference_steps: int | None,
                 max_frames: int, reporter=None):
    """Like ``sampling.reverse_process``: (frame t's as 1000·t, −1 for the sample; frames;
    number of steps)."""
    from engine.toy2d.sampling import frame_indices

    torch = import_torch()
    device = noise.device
    network = model_from_toy(model, device)
    scheduler = flow_scheduler(sampler)
    steps = num_inference_steps or DEFAULT_FLOW_STEPS
    scheduler.set_timesteps(steps, device=device)
    keep = set(frame_indices(steps, max_frames).tolist())
    frames, frame_t = [], []
    x, done = noise, 0
    calls = len(scheduler.timesteps)
    for index, t in enumerate(scheduler.timesteps):
        if getattr(scheduler, "state_in_first_order", True) and done in keep:
            frames.append(x.cpu().numpy().copy())
            frame_t.append(float(t))
        if reporter is not None:
            reporter.check_cancelled()
        with torch.no_grad():
            velocity = network(x, t.expand(x.shape[0]).to(x.dtype))
        x = scheduler.step(velocity, t, x).prev_sample
        if getattr(scheduler, "state_in_first_order", True):
            done += 1
        if reporter is not None:
            reporter.progress(index + 1, calls, f"{sampler.capitalize()} t = {float(t) / 1000:.3f}")
    frames.append(x.cpu().numpy().copy())
    frame_t.append(-1.0)
    return np.asarray(frame_t), np.stack(frames).astype(np.float32), steps
