"""Sampler and scheduler names as people type them: any case, and AUTOMATIC1111's names.

One resolver for every command that takes a sampler: ``generate --scheduler`` (Stable
Diffusion's names, engine/stable_diffusion/types.py), ``sample``/``evaluate --sampler`` (the
digits model's keys, engine/digits/types.py) and ``toy2d --sampler``. A name means a choice when
it is, ignoring case, ``_`` and spaces, one of that sampler's spellings in the registry (key,
name, A1111 name, menu label, aliases). Torch-free.
"""

from __future__ import annotations

import re

from engine.samplers.registry import get_sampler


def _key(name: str) -> str:
    """Lower case, single spaces, ``_`` and spaces treated alike (``Euler_a`` = ``euler a``)."""
    return re.sub(r"[\s_]+", " ", str(name)).strip().lower()


def resolve(name: str, choices, what: str = "sampler") -> str:
    """The entry of ``choices`` (sampler keys or names) that ``name`` means; ``ValueError``
    with the choices spelled out when it means none of them."""
    choices = tuple(choices)
    wanted = _key(name)
    for choice in choices:
        if _key(choice) == wanted:
            return choice
    for choice in choices:
        try:
            spellings = get_sampler(choice).spellings
        except KeyError:  # not a registry sampler: its own spelling only
            continue
        if any(_key(spelling) == wanted for spelling in spellings):
            return choice
    raise ValueError(f"unknown {what} {name!r}; choose one of: "
                     + ", ".join(f"'{c}'" for c in choices)
                     + " (any case; AUTOMATIC1111 names such as 'Euler a' or 'DPM++ 2M' work too)")


def sd_scheduler(name: str) -> str:
    """A Stable Diffusion scheduler name (``SCHEDULER_NAMES``) for what people typed."""
    from engine.stable_diffusion.types import SCHEDULER_NAMES

    return resolve(name, SCHEDULER_NAMES, "scheduler")


def digits_sampler(name: str) -> str:
    """A digits sampler key for what people typed."""
    from engine.digits.types import SAMPLERS

    return resolve(name, tuple(SAMPLERS), "sampler")


def any_case(choices, what: str = "sampler"):
    """A resolver for a plain list of choices, e.g. toy2d's ("ddpm", "ddim")."""
    choices = tuple(choices)

    def resolver(name: str) -> str:
        return resolve(name, choices, what)

    resolver.__name__ = what
    return resolver


def argparse_type(resolver):
    """``resolver`` as an argparse ``type=``: the error becomes argparse's usage message."""
    import argparse

    def convert(text: str) -> str:
        try:
            return resolver(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = resolver.__name__  # argparse names the type in some messages
    return convert
