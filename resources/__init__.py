"""Data shipped with the app: sample images, the embedded model, explanation texts.

A package (not a loose folder) so that ``pip install .`` and PyInstaller both carry it.
"""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Absolute path of a file under resources/, e.g. ``resource_path("samples", "x.png")``."""
    return RESOURCES_DIR.joinpath(*parts)


def read_text(*parts: str) -> str:
    return resource_path(*parts).read_text(encoding="utf-8")
