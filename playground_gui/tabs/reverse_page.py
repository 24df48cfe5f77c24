"""Temporary: the page moved to ``playground_gui.tabs.reverse.view``. Kept only until
``forward_reverse_tab.py`` imports it from there (issue 12 merge); then delete this module."""

from playground_gui.tabs.reverse.view import ReversePage

__all__ = ["ReversePage"]
