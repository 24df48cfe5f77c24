"""Cancel takes effect inside a model call, not only between steps.

The tiny pipeline steps in milliseconds, so a slow block is injected (a forward hook that
sleeps in every UNet resnet: one step then takes seconds, like SD 1.5 on a CPU). Cancel must
end the job within about a second of the flag being set, with the steps done so far returned
as latents, undecoded. tests/benchmarks/bench_sd_cancel.py measures the real architecture.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from engine.errors import Cancelled
from engine.reporting import Reporter
from tests.engine.stable_diffusion.sd_fixtures import tiny_request

SLOW_BLOCK_SECONDS = 0.15  # × 12 resnets ≈ 1.8 s per step without a mid-step check


def _slow_unet(pipe, slow: threading.Event):
    """Once ``slow`` is set, every UNet resnet sleeps after it runs; returns the hook handles."""
    def sleep(module, args, output):
        if slow.is_set():
            time.sleep(SLOW_BLOCK_SECONDS)

    resnets = [m for m in pipe.unet.modules() if type(m).__name__ == "ResnetBlock2D"]
    assert len(resnets) >= 10
    return [m.register_forward_hook(sleep) for m in resnets]


def _hook_count(module) -> int:
    return sum(len(m._forward_pre_hooks) for m in module.modules())


def _run_and_cancel(source, set_cancel):
    """Run 3 steps, the first fast, the others slow; ``set_cancel(event)`` fires 0.3 s into the
    second step. Returns (partial result, seconds from the flag to the end of the job)."""
    from engine.stable_diffusion.generation import run_generation
    from engine.stable_diffusion.loading import get_pipeline
    from tests.engine.stable_diffusion.sd_fixtures import CPU

    pipe = get_pipeline(source, CPU).pipe
    hooks_before = _hook_count(pipe.unet) + _hook_count(pipe.vae)
    cancel, slow = threading.Event(), threading.Event()
    flagged = {}

    def on_partial(preview):  # after step 1: step 2 is slow, and cancelled 0.3 s into it
        if preview.step > 1:
            return
        slow.set()

        def later():
            time.sleep(0.3)
            flagged["at"] = time.perf_counter()
            set_cancel(cancel)
        threading.Thread(target=later, daemon=True).start()

    handles = _slow_unet(pipe, slow)
    try:
        with pytest.raises(Cancelled) as info:
            run_generation(tiny_request(source, steps=3, scheduler="DDIM", preview_every=1),
                           Reporter(cancel, on_partial=on_partial))
        ended = time.perf_counter()
    finally:
        for handle in handles:
            handle.remove()
    assert _hook_count(pipe.unet) + _hook_count(pipe.vae) == hooks_before  # nothing left behind
    return info.value.partial, ended - flagged["at"]


def test_cancel_mid_step_ends_within_a_second_with_latents(tiny_folder):
    partial, latency = _run_and_cancel(tiny_folder, lambda event: event.set())
    assert latency < 1.0, f"cancel took {latency:.2f} s"
    assert partial.cancelled and partial.steps_done == 1 and partial.images == ()
    assert partial.step_latents[0].shape[0] == 1  # step 1, recorded
    assert partial.partial_latents.shape == (1, 4, 32, 32)  # x̂₀ after step 1, not decoded


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")
def test_a_signal_handler_that_sets_the_flag_cancels_the_same_way(tiny_folder):
    """What the CLI does with Ctrl+C: its SIGINT handler sets the reporter's cancel_event."""
    event_holder = {}
    previous = signal.signal(signal.SIGUSR1, lambda *_: event_holder["event"].set())
    try:
        def send_signal(event):
            event_holder["event"] = event
            os.kill(os.getpid(), signal.SIGUSR1)  # handled in the main thread, mid-step
        partial, latency = _run_and_cancel(tiny_folder, send_signal)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert latency < 1.0, f"cancel took {latency:.2f} s"
    assert partial.steps_done == 1 and partial.images == ()
