"""The Prompt tab's fixtures: the tiny random-weight pipeline, saved once for the whole run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    from engine.fixtures.tiny_sd import save_tiny_pipeline

    folder, _ = save_tiny_pipeline(tmp_path_factory.mktemp("tiny"))
    return str(folder)
