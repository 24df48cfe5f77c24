"""Argument types shared by the commands: checked ranges whose limits the help text states.

argparse turns a ``ValueError``/``ArgumentTypeError`` from a type into "argument --seed:
…" and exit code 2, before any work starts.
"""

from __future__ import annotations

import argparse

SEED_MAX = 2**32 - 1
SEED_HELP = f"0 … {SEED_MAX} (2³²−1)"


def seed(text: str) -> int:
    """A seed: an integer 0 … 2³²−1 (what every generator here accepts, as in AUTOMATIC1111)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; seeds are "
                                         f"{SEED_HELP}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{text} is out of range; seeds are {SEED_HELP}")
    return value


def int_range(low: int, high: int):
    """An argparse type for an integer from ``low`` to ``high`` inclusive."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range; use {low} … {high}")
        return value

    parse.__name__ = f"integer {low}-{high}"
    return parse
