"""Issue 16 §1: the token view colours tokens by weight, shows chunks and where an edit switches."""

from __future__ import annotations

import pytest

from engine.stable_diffusion.tokens import token_info
from playground_gui.tabs.prompt.token_view import PromptTokenView, token_html, weight_colour


@pytest.fixture(scope="module")
def tokenizer():
    from engine.fixtures.tiny_sd import scratch_tokenizer

    return scratch_tokenizer()[0]


def test_weight_colours():
    assert weight_colour(1.5).startswith("#") and weight_colour(1.5) != weight_colour(0.7)
    assert weight_colour(2.0) == weight_colour(4.0)  # saturates
    assert weight_colour(0) == "#9ca3af"


def test_chips_by_weight_chunks_and_edit_rows(qtbot, tokenizer):
    info = token_info(tokenizer, "a (cat:1.5) BREAK [dog]", steps=10)
    html = token_html(info)
    assert f"background:{weight_colour(1.5)}" in html and "<sub>1.5</sub>" in html
    assert f"background:{weight_colour(round(1 / 1.1, 6))}" in html
    assert "chunk 2:" in html and "<s>" not in html
    assert all(not t.startswith("(") and "BREAK" not in t for t in info.tokens)

    edited = token_info(tokenizer, "a [cat:dog:0.5]", steps=10)
    html = token_html(edited)
    assert "<b>steps 1–5:</b>" in html and "<b>steps 6–10:</b>" in html
    assert html.count("href='token:") == edited.count  # only the first row's chips are links

    view = PromptTokenView()
    qtbot.addWidget(view)
    view.set_info(edited)
    assert "a row per text" in view.summary.text()
    view.set_info(token_info(tokenizer, " ".join(["cat"] * 80)))
    assert "2 chunks" in view.summary.text() and view.warning.text() == ""
