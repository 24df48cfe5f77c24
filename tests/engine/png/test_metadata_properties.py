"""Property-based round trip of the parameters text (runs where hypothesis is installed)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from engine.png.a1111 import GenerationParameters, format_parameters, parse_parameters

pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

# Hypothesis keeps caches in ./.hypothesis by default: not in our repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "diffusion-playground-hypothesis")

_line_text = st.text(st.characters(blacklist_characters="\r\n\x00"), max_size=30).filter(
    lambda line: not line.startswith("Negative prompt:"))
_multiline = st.lists(_line_text, max_size=4).map("\n".join)
_value = st.text(max_size=20)
_KNOWN = {"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model",
          "Denoising strength", "Version"}
_key = st.from_regex(r"[A-Za-z][A-Za-z0-9]{1,8}( [A-Za-z0-9]{1,8})?", fullmatch=True).filter(
    lambda key: key not in _KNOWN)


@settings(max_examples=80, deadline=None, database=None)  # no .hypothesis folder in the repo
@given(prompt=_multiline, negative=_multiline, steps=st.none() | st.integers(-10, 10**6),
       sampler=st.none() | _value, cfg=st.none() | st.floats(allow_nan=False, allow_infinity=False),
       seed=st.none() | st.integers(0, 2**64), size=st.none() | st.tuples(
           st.integers(0, 10**6), st.integers(0, 10**6)),
       model=st.none() | _value, version=_value, extra=st.dictionaries(_key, _value, max_size=4))
def test_property_round_trip(prompt, negative, steps, sampler, cfg, seed, size, model, version,
                             extra):
    width, height = size if size else (None, None)
    parameters = GenerationParameters(prompt=prompt, negative_prompt=negative, steps=steps,
                                      sampler=sampler, cfg_scale=cfg, seed=seed, width=width,
                                      height=height, model=model, version=version, extra=extra)
    assert parse_parameters(format_parameters(parameters)) == parameters
