"""Importing torch with the thread settings of engine.environment."""

from __future__ import annotations

from engine.environment import default_thread_count, prepare_environment


def import_torch(threads: int | None = None):
    """Import torch with the environment and thread count above; returns the module."""
    prepare_environment()
    import torch

    wanted = threads or default_thread_count()
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return torch
