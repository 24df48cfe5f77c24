"""Issue 16 §1: the AUTOMATIC1111 prompt grammar (torch-free parser)."""

from __future__ import annotations

import pytest

from engine.stable_diffusion.prompt_syntax import (
    is_break,
    parse_weights,
    plain_text,
    prompt_schedule,
    split_extra_networks,
    steps_label,
)


def pairs(text):
    return [("BREAK", None) if is_break(p) else (p.text, p.weight) for p in parse_weights(text)]


@pytest.mark.parametrize("text, expected", [
    # The reference cases of the issue (AUTOMATIC1111's documented examples), pieces verbatim.
    ("an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)]),
    ("(unbalanced", [("unbalanced", 1.1)]),
    ("\\(literal\\]", [("(literal]", 1.0)]),
    ("(unnecessary)(parens)", [("unnecessaryparens", 1.1)]),
    ("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
     [("a ", 1.0), ("house", 1.573), (" ", 1.1), ("on", 1.0), (" a ", 1.1), ("hill", 0.55),
      (", sun, ", 1.1), ("sky", 1.4641), (".", 1.1)]),
    # Each construct on its own.
    ("((word))", [("word", 1.21)]),
    ("(word:1.3)", [("word", 1.3)]),
    ("( word : 0.7 )", [(" word ", 0.7)]),
    ("[word]", [("word", round(1 / 1.1, 6))]),
    ("[[word]]", [("word", round(1 / 1.21, 6))]),
    ("(word:1.0)", [("word", 1.0)]),
    ("a stray) and :1.3) stay", [("a stray) and :1.3) stay", 1.0)]),
    ("a\\\\b", [("a\\b", 1.0)]),
    ("(a:x)", [("a:x", 1.1)]),
    ("", [("", 1.0)]),
    ("cat BREAK (dog)", [("cat", 1.0), ("BREAK", None), ("dog", 1.1)]),
    ("BREAKFAST", [("BREAKFAST", 1.0)]),
])
def test_weight_parse(text, expected):
    assert pairs(text) == expected


def test_plain_text_only_when_nothing_changes_the_encoding():
    assert plain_text(parse_weights("a (word:1.0) b")) == "a word b"
    assert plain_text(parse_weights("\\(x\\)")) == "(x)"
    assert plain_text(parse_weights("a (word) b")) is None
    assert plain_text(parse_weights("a BREAK b")) is None


def test_prompt_editing_switches_after_the_stated_step():
    assert prompt_schedule("a [fantasy:cyberpunk:16] landscape", 20) == [
        (16, "a fantasy landscape"), (20, "a cyberpunk landscape")]
    # when < 1: a fraction of the steps
    assert prompt_schedule("[cat:dog:0.25]", 20) == [(5, "cat"), (20, "dog")]
    # [to:when] adds, [from::when] removes
    assert prompt_schedule("a [red:3] cube", 10) == [(3, "a  cube"), (10, "a red cube")]
    assert prompt_schedule("a [red::3] cube", 10) == [(3, "a red cube"), (10, "a  cube")]
    # past the end: never switches; 0: from the start
    assert prompt_schedule("[a:b:30]", 20) == [(20, "a")]
    assert prompt_schedule("[a:b:0]", 20) == [(20, "b")]


def test_alternation_every_step_and_nesting():
    assert prompt_schedule("[cow|horse] in a field", 4) == [
        (1, "cow in a field"), (2, "horse in a field"), (3, "cow in a field"), (4, "horse in a field")]
    assert [t for _, t in prompt_schedule("[a|b|c]", 4)] == ["a", "b", "c", "a"]
    # weights inside an edit stay for the weight parser; ":" inside ( ) separates nothing
    assert prompt_schedule("[(cat:1.2)|dog]", 2) == [(1, "(cat:1.2)"), (2, "dog")]
    assert prompt_schedule("[a [b:c:2] d]", 3) == [(2, "[a b d]"), (3, "[a c d]")]
    assert prompt_schedule("[a:[b:c:2]:1]", 3) == [(1, "a"), (2, "b"), (3, "c")]


def test_emphasis_and_escapes_are_not_edits():
    for text in ("[word]", "[a:b]", "\\[a:b:3\\]", "(a:1.2) [b]", "[unclosed:3"):
        assert prompt_schedule(text, 10) == [(10, text)]


def test_split_extra_networks():
    clean, found = split_extra_networks("a cat <lora:Film Grain:0.8>, <hypernet:h> <LORA:x:y>")
    assert clean == "a cat ,  "
    assert found == [("lora", "Film Grain", 0.8), ("hypernet", "h", 1.0), ("lora", "x:y", 1.0)]
    assert split_extra_networks("(a) <b:1>") == ("(a) <b:1>", [])


def test_steps_label():
    assert steps_label([1, 2, 3]) == "1–3"
    assert steps_label([4]) == "4"
    assert steps_label([1, 3, 5, 7, 9]) == "1, 3, 5, …, 9"
