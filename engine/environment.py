"""Torch start-up settings, chosen deliberately, without importing torch.

Measured on the 2-core machines we develop on: with 2 torch threads and another busy process
(the GUI) on the second core, a small UNet forward ran 10–25× slower than with 1 thread, because
OpenMP workers spin waiting for the core the GUI holds. So: one core is left to the GUI, and
OpenMP is told to sleep rather than spin. Both must be set before torch is imported.
"""

from __future__ import annotations

import os

THREADS_ENV = "DIFFUSION_PLAYGROUND_THREADS"


def default_thread_count() -> int:
    """Torch threads: the user's override, else all cores but one for the GUI (at least 1)."""
    override = os.environ.get(THREADS_ENV)
    if override:
        try:
            return max(1, int(override))
        except ValueError:
            pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def prepare_environment() -> None:
    """Environment that OpenMP reads once, when torch loads. Call before the first torch import."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Symlink warnings and telemetry are noise for a desktop app.
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_SYMLINKS_WARNING", "1")
