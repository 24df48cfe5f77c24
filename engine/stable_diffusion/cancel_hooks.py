"""Cancel inside a model call: forward pre-hooks that raise ``Cancelled`` between blocks.

A Stable Diffusion step is one UNet call; on a CPU, SD 1.5's UNet takes seconds per call (and
the VAE's decode as long), so checking the cancel flag only between steps makes Cancel wait for
the step to end. These hooks check the flag before every block of the UNet and the VAE
(down/mid/up blocks and their resnets, attentions, down/upsamplers), each well under a second on
the real architecture, and raise the engine's ``Cancelled`` there. The hooks exist only for one
job (a context manager), so the cached pipeline carries none between jobs.

Works with any way the flag gets set: the GUI's Cancel button, or a CLI's SIGINT handler that
sets the reporter's ``cancel_event`` (Python runs the handler between two torch ops, and the
next block boundary raises).
"""

from __future__ import annotations

import contextlib

from engine.errors import Cancelled

# Child lists of diffusers' UNet/VAE blocks that hold the expensive layers.
_BLOCK_LISTS = ("down_blocks", "up_blocks")
# (SD 3's and Flux's transformers: their ``transformer_blocks``, Flux's ``single_transformer_blocks``.)
_PART_LISTS = ("resnets", "attentions", "downsamplers", "upsamplers", "transformer_blocks",
               "single_transformer_blocks")


def cancellable_modules(model):
    """The blocks of a diffusers UNet or VAE (or its encoder/decoder) worth a cancel check."""
    found = []

    def visit(module, depth):
        if module is None or depth > 4:
            return
        found.append(module)
        for name in _BLOCK_LISTS + _PART_LISTS:
            for child in getattr(module, name, None) or ():
                visit(child, depth + 1)
        for name in ("mid_block", "encoder", "decoder"):
            child = getattr(module, name, None)
            if child is not None and hasattr(child, "register_forward_pre_hook"):
                visit(child, depth + 1)

    visit(model, 0)
    return found


@contextlib.contextmanager
def cancel_checks(cancel_event, *models):
    """While inside, every block of ``models`` raises ``Cancelled`` once ``cancel_event`` is set."""

    def check(module, args):
        if cancel_event.is_set():
            raise Cancelled()

    handles = []
    try:
        for model in models:
            if model is None:
                continue
            for module in cancellable_modules(model):
                handles.append(module.register_forward_pre_hook(check))
        yield len(handles)
    finally:
        for handle in handles:
            handle.remove()
