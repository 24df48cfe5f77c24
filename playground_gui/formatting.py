"""Words and routes for what the engine reports, widget-free (sessions use them too)."""

from __future__ import annotations

from engine.png.chunks import PngMetadata
from engine.png.record import KIND_STABLE_DIFFUSION


def format_progress(update) -> str:
    text = f"{update.done}/{update.total}"
    if update.rate:
        text += f" · {update.rate:.1f} it/s" if update.rate >= 1 else f" · {1 / update.rate:.1f} s/it"
    if update.eta_seconds is not None and update.done < update.total:
        text += f" · ETA {format_seconds(update.eta_seconds)}"
    return text


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# Images from other tools carry only the A1111 text; the Prompt tab (Stable Diffusion) is the one
# that can use it. It receives {"foreign_parameters": GenerationParameters.to_dict()}.
FOREIGN_KIND = KIND_STABLE_DIFFUSION


def restore_target(metadata: PngMetadata) -> tuple[str, dict] | None:
    """(kind, request) to hand to ``MainWindow.restore``, or None when there is nothing."""
    if metadata.kind is not None:
        return metadata.kind, dict(metadata.request or {})
    if metadata.parameters is not None:
        return FOREIGN_KIND, {"foreign_parameters": metadata.parameters.to_dict()}
    return None
