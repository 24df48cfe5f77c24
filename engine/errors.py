"""Errors with messages meant for people, and the mapping from raw exceptions to them."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message is already written for the user (what happened, what to do)."""


class Cancelled(Exception):
    """Raised by a job when the user cancelled it; ``partial`` holds what exists so far."""

    def __init__(self, partial=None):
        super().__init__("cancelled")
        self.partial = partial


# How the libraries say "out of memory": CUDA/MPS ("CUDA out of memory", OutOfMemoryError) and
# the CPU allocator of PyTorch ("DefaultCPUAllocator: can't allocate memory: you tried to
# allocate 10737418240 bytes"), and numpy's _ArrayMemoryError (a MemoryError).
_DEVICE_OOM_TEXT = ("out of memory",)
_HOST_OOM_TEXT = ("can't allocate memory", "cannot allocate memory", "defaultcpuallocator")


def memory_kind(exc: BaseException) -> str | None:
    """"device" (GPU/MPS memory), "host" (the computer's RAM) or None when not out of memory."""
    text = str(exc).lower()
    if any(marker in text for marker in _DEVICE_OOM_TEXT) \
            or exc.__class__.__name__ == "OutOfMemoryError":
        return "device"
    if isinstance(exc, MemoryError) or any(marker in text for marker in _HOST_OOM_TEXT):
        return "host"
    return None


def describe(exc: BaseException) -> str:
    """One clear sentence or two for any exception; the traceback goes to the log, not here."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    text = str(exc) or exc.__class__.__name__
    kind = memory_kind(exc)
    if kind == "device":
        return (
            "The device ran out of memory. Try a smaller image size or batch, enable attention "
            "slicing / VAE tiling / CPU offload, or switch the device to CPU.\n\nDetails: "
            + text.splitlines()[0]
        )
    if kind == "host":
        return ("The computer ran out of memory. Try a smaller image size or batch, and close "
                "other programs.\n\nDetails: " + text.splitlines()[0])
    if isinstance(exc, (ValueError, FileNotFoundError, PermissionError)):
        return text
    return f"Unexpected error ({exc.__class__.__name__}): {text.splitlines()[0]}"
