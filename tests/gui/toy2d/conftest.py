"""The 2D toy tab of a real window, for the tab tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def toy_tab(window, qtbot):
    """The toy tab, current, once its first forward result has arrived."""
    from playground_gui.tabs.toy2d.tab import Toy2DTab

    toy = next(window.tabs.widget(i) for i in range(window.tabs.count())
               if isinstance(window.tabs.widget(i), Toy2DTab))
    window.tabs.setCurrentWidget(toy)
    qtbot.waitUntil(lambda: toy.session.forward is not None, timeout=60_000)
    return toy
