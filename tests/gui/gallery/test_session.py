"""The gallery's session without a window: folder, listing, selection, where Restore goes."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

from engine.images import make_test_card
from engine.png.a1111 import GenerationParameters
from engine.png.saving import save_image
from playground_gui.preferences import OUTPUT_FOLDER_KEY, Preferences
from playground_gui.tabs.gallery.session import GallerySession


def session_in(tmp_path, titles):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    restored = []
    session = GallerySession(Preferences(settings), titles.get,
                             lambda kind, request: restored.append((kind, request)) or True)
    return session, settings, restored


def saved(folder, kinds):
    """One image per kind, oldest first, a minute apart."""
    paths = []
    for index, kind in enumerate(kinds):
        path = save_image(make_test_card(16), GenerationParameters(prompt="p", seed=index),
                          {"index": index}, folder, kind=kind)
        os.utime(path, (1_700_000_000 + 60 * index,) * 2)
        paths.append(path)
    return paths


def test_selection_and_restore_routing(qtbot, tmp_path):
    session, settings, restored = session_in(tmp_path, {"digits": "Forward / reverse › Reverse"})
    folder = tmp_path / "out"
    older, newer = saved(folder, ["digits", "future-kind"])
    session.set_output_folder(folder)
    assert settings.value(OUTPUT_FOLDER_KEY) == str(folder) and session.folder == folder
    assert [session.model.path_at(row) for row in range(2)] == [newer, older]
    assert session.row_to_select() == 0  # nothing selected yet: the newest

    session.select(older)
    assert session.row_to_select() == 1  # a refresh keeps the selection where it moved
    assert session.metadata.kind == "digits" and session.error is None
    assert session.restore_target == ("digits", {"index": 0})
    assert session.restore_title == "Forward / reverse › Reverse"
    assert session.unrestorable_kind is None and session.parameters_text.startswith("p\n")
    assert session.restore() and restored == [("digits", {"index": 0})]

    session.select(newer)  # no tab restores this kind: nothing is sent
    assert session.restore_title is None and session.unrestorable_kind == "future-kind"
    assert session.restore() is True  # the window's restore decides (and reports) …
    assert restored[-1] == ("future-kind", {"index": 1})  # … here the fake accepts anything


def test_nothing_selected_an_unreadable_file_and_an_empty_folder(qtbot, tmp_path):
    session, _, restored = session_in(tmp_path, {})
    session.select(None)
    assert session.restore_target is None and not session.restore() and restored == []
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png at all")
    session.select(junk)
    assert session.metadata is None and "PNG" in session.error
    assert session.parameters_text is None and session.unrestorable_kind is None
    session.set_output_folder(tmp_path / "nothing-here")
    assert session.is_empty and session.row_to_select() is None
