"""UI settings that outlive the window, in the window's QSettings: one place for their keys.

Window geometry and the last tab are kept by MainWindow itself; this covers the rest.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from engine.png.saving import default_output_folder

OUTPUT_FOLDER_KEY = "output/folder"
AUTO_SAVE_KEY = "output/auto_save/{kind}"
LAST_MODEL_KEY = "models/last/{kind}"


class Preferences:
    """Typed access to the app's QSettings (pass ``window.settings``)."""

    def __init__(self, settings: QSettings):
        self.settings = settings

    @property
    def output_folder(self) -> Path:
        """Where images are saved: the user's choice, else <Pictures>/Diffusion Playground."""
        value = self.settings.value(OUTPUT_FOLDER_KEY)
        return Path(value) if value else default_output_folder()

    @output_folder.setter
    def output_folder(self, folder: str | Path | None) -> None:
        if folder:
            self.settings.setValue(OUTPUT_FOLDER_KEY, str(folder))
        else:
            self.settings.remove(OUTPUT_FOLDER_KEY)  # back to the default

    def auto_save(self, kind: str) -> bool:
        return _as_bool(self.settings.value(AUTO_SAVE_KEY.format(kind=kind), False))

    def set_auto_save(self, kind: str, enabled: bool) -> None:
        self.settings.setValue(AUTO_SAVE_KEY.format(kind=kind), bool(enabled))

    def last_model(self, kind: str, default: str | None = None) -> str | None:
        """The model the user last loaded in a tab (an id, a path, …), e.g. for kind
        "stable-diffusion"."""
        value = self.settings.value(LAST_MODEL_KEY.format(kind=kind))
        return str(value) if value else default

    def set_last_model(self, kind: str, key: str) -> None:
        self.settings.setValue(LAST_MODEL_KEY.format(kind=kind), str(key))


def _as_bool(value) -> bool:
    # QSettings' INI backend gives back "true"/"false" strings.
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
