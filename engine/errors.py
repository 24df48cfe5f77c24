"""Errors with messages meant for people, and the mapping from raw exceptions to them."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message is already written for the user (what happened, what to do)."""


class Cancelled(Exception):
    """Raised by a job when the user cancelled it; ``partial`` holds what exists so far."""

    def __init__(self, partial=None):
        super().__init__("cancelled")
        self.partial = partial


def describe(exc: BaseException) -> str:
    """One clear sentence or two for any exception; the traceback goes to the log, not here."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    text = str(exc) or exc.__class__.__name__
    lowered = text.lower()
    if "out of memory" in lowered or exc.__class__.__name__ == "OutOfMemoryError":
        return (
            "The device ran out of memory. Try a smaller image size or batch, enable attention "
            "slicing / VAE tiling / CPU offload, or switch the device to CPU.\n\nDetails: "
            + text.splitlines()[0]
        )
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Try a smaller image size or batch."
    if isinstance(exc, (ValueError, FileNotFoundError, PermissionError)):
        return text
    return f"Unexpected error ({exc.__class__.__name__}): {text.splitlines()[0]}"
