"""Latent walks of the digits model: frames between two seeds' noises, one sampling run each.

Frame i is an ordinary single-image run (``ReverseRequest``, batch size 1) with the first seed,
the second seed as variation seed and strength i/(N−1) (``WalkRequest.frame_request``): its
x_T is the slerp of the two seeds' noises (``engine.samplers.noise``), drawn exactly as a
single-image run draws it. So the endpoints are the single images of the two seeds, pixel for
pixel, and each frame's PNG record regenerates that frame. Frames run one by one (not as one
batch), since a batch could round differently and would change a stochastic sampler's noise.
"""

from __future__ import annotations

import time

import numpy as np

from engine.digits.types import WalkFrame, WalkRequest, WalkResult
from engine.errors import Cancelled


def run_walk(request: WalkRequest, reporter) -> WalkResult:
    """Job handler: every frame in turn; each finished frame is reported as a ``WalkFrame``
    partial. Cancelled: ``Cancelled(WalkResult)`` with the frames finished so far."""
    from engine.digits.sampling import run_reverse, scheduler_for
    from engine.runtime import import_torch

    import_torch()
    requests = request.frame_requests()
    scheduler = scheduler_for(request.sampler, _scheduler_config(request))
    scheduler.set_timesteps(request.steps)
    per_frame = len(scheduler.timesteps)  # PNDM adds one step
    total = per_frame * request.frames
    frames: list[np.ndarray] = []
    device = ""
    started = time.perf_counter()

    def result() -> WalkResult:
        size = frames[0].shape if frames else (0, 0)
        stack = np.stack(frames) if frames else np.empty((0, *size), np.uint8)
        return WalkResult(request, stack, requests[:len(frames)],
                          time.perf_counter() - started, device)

    for index, frame_request in enumerate(requests):
        if reporter.cancelled:
            raise Cancelled(result())
        try:
            # Not recorded, so it reports progress only (spanning the walk), no partials.
            run = run_reverse(frame_request, reporter, 0, index * per_frame, total)
        except Cancelled:
            raise Cancelled(result()) from None
        device = run.device
        image = run.final_images[0].copy()
        frames.append(image)
        reporter.partial(WalkFrame(index, request.frames, image, frame_request))
    return result()


def _scheduler_config(request: WalkRequest) -> dict:
    from engine.device import current_device
    from engine.digits.model import cached_model

    return cached_model(request.model_dir, current_device()).scheduler_config
