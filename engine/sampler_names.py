"""Sampler and scheduler names as people type them: any case, and AUTOMATIC1111's names.

One resolver for every command that takes a sampler: ``generate --scheduler`` (Stable
Diffusion's names, engine/stable_diffusion/types.py) and ``sample``/``evaluate --sampler`` (the
digits model's keys, engine/reverse_types.py). Torch-free.
"""

from __future__ import annotations

import re

# AUTOMATIC1111's sampler names (and a few common spellings) -> the Stable Diffusion scheduler
# names of this app. "PLMS" is A1111's name for PNDM without its Runge-Kutta warm-up.
SD_ALIASES = {
    "euler a": "Euler ancestral",
    "euler_a": "Euler ancestral",
    "plms": "PNDM",
    "dpm++ 2m": "DPM-Solver++ 2M",
    "dpmpp 2m": "DPM-Solver++ 2M",
    "dpmpp_2m": "DPM-Solver++ 2M",
    "dpm++ 2m karras": "DPM-Solver++ 2M Karras",
    "dpmpp 2m karras": "DPM-Solver++ 2M Karras",
    "dpmpp_2m_karras": "DPM-Solver++ 2M Karras",
}

# The same names -> the digits model's sampler keys.
DIGITS_ALIASES = {
    "euler a": "euler_a",
    "euler ancestral": "euler_a",
    "dpm++ 2m": "dpmpp_2m",
    "dpm-solver++ 2m": "dpmpp_2m",
    "plms": "pndm",
}


def _key(name: str) -> str:
    """Lower case, single spaces, ``_`` and spaces treated alike (``Euler_a`` = ``euler a``)."""
    return re.sub(r"[\s_]+", " ", str(name)).strip().lower()


def resolve(name: str, choices, aliases: dict[str, str] | None = None, what: str = "sampler") -> str:
    """The canonical entry of ``choices`` that ``name`` means; ``ValueError`` with the choices
    spelled out when it means none of them."""
    wanted = _key(name)
    for choice in choices:
        if _key(choice) == wanted:
            return choice
    for alias, target in (aliases or {}).items():
        if _key(alias) == wanted and target in choices:
            return target
    raise ValueError(f"unknown {what} {name!r}; choose one of: "
                     + ", ".join(f"'{c}'" for c in choices)
                     + " (any case; AUTOMATIC1111 names such as 'Euler a' or 'DPM++ 2M' work too)")


def sd_scheduler(name: str) -> str:
    from engine.stable_diffusion.types import SCHEDULER_NAMES

    return resolve(name, SCHEDULER_NAMES, SD_ALIASES, "scheduler")


def digits_sampler(name: str) -> str:
    from engine.digits.types import SAMPLERS

    return resolve(name, tuple(SAMPLERS), DIGITS_ALIASES, "sampler")


def any_case(choices, what: str = "sampler"):
    """A resolver for a plain list of names, e.g. toy2d's ("ddpm", "ddim"), case-insensitive."""
    choices = tuple(choices)

    def resolver(name: str) -> str:
        return resolve(name, choices, None, what)

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
