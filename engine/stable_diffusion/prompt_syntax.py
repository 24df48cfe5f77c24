"""The AUTOMATIC1111 prompt syntax, parsed (torch-free; issue 16 §1).

Written from AUTOMATIC1111's documented behaviour (its wiki and the examples it documents), not
from its code. Three stages, as there:

1. ``split_extra_networks``: ``<lora:name:0.8>`` / ``<hypernet:…>`` tags are taken out of the text
   (the LoRA code loads them; the text encoder never sees them).
2. ``prompt_schedule``: prompt editing ``[from:to:when]``, ``[to:when]``, ``[from::when]`` and
   alternation ``[a|b]`` resolve to one plain text per denoising step. ``when`` < 1 is a fraction
   of the steps, ≥ 1 a step number; ``from`` is used up to and including step ``when`` (1-based
   model calls), ``to`` after it. Alternation takes option (step − 1) mod n.
3. ``parse_weights``: attention weights on that text. ``(x)`` ×1.1, ``[x]`` ÷1.1, ``(x:1.3)``
   sets 1.3 (times the enclosing brackets), brackets left open apply to the rest of the prompt,
   a stray closing bracket is plain text, ``\\(`` ``\\)`` ``\\[`` ``\\]`` ``\\\\`` are literal.
   Adjacent pieces of equal weight merge; ``BREAK`` (upper case, a word of its own) starts a new
   75-token chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROUND, SQUARE = 1.1, 1 / 1.1
WEIGHT_DECIMALS = 6  # 1.1³ is 1.3310000000000004 in floats: weights are kept to 6 decimals

EXTRA_NETWORK_KINDS = ("lora", "lyco", "hypernet")
_EXTRA_NETWORK = re.compile(r"<(" + "|".join(EXTRA_NETWORK_KINDS) + r"):([^<>]+)>", re.IGNORECASE)
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_WEIGHT_CLOSE = re.compile(r":\s*(" + _NUMBER + r")\s*\)")
_BREAK = re.compile(r"\s*\bBREAK\b\s*")


@dataclass(frozen=True)
class Piece:
    text: str
    weight: float  # 1.0 = as written


BREAK = Piece("BREAK", float("nan"))  # the chunk marker in a parse (NaN never merges)


def is_break(piece: Piece) -> bool:
    return piece is BREAK


# -- 1. extra networks -----------------------------------------------------------------------
def split_extra_networks(prompt: str) -> tuple[str, list[tuple[str, str, float]]]:
    """The prompt without ``<lora:…>``/``<lyco:…>``/``<hypernet:…>`` tags, and the tags as
    (kind, name, weight). The weight is what follows the name's last ``:`` when it parses as a
    number (``<lora:name:0.8>``), else 1.0 (``<lora:name>``)."""
    found = []

    def take(match: re.Match) -> str:
        body = match.group(2).strip()
        name, weight = body, 1.0
        if ":" in body:
            head, tail = body.rsplit(":", 1)
            try:
                name, weight = head.strip(), float(tail)
            except ValueError:
                pass
        found.append((match.group(1).lower(), name, weight))
        return ""

    return _EXTRA_NETWORK.sub(take, prompt), found


# -- 2. prompt editing and alternation --------------------------------------------------------
@dataclass
class _Edit:
    before: list  # nodes (str | _Edit | _Alternate)
    after: list
    when: float


@dataclass
class _Alternate:
    options: list  # of node lists


def _scan(text: str, pos: int, stop: str):
    """Nodes from ``pos`` up to one of the characters in ``stop`` at this bracket depth."""
    nodes: list = []
    plain = []
    depth = 0  # round brackets: the ":" of "(word:1.3)" separates nothing
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            plain.append(text[pos:pos + 2])  # escapes stay for the weight parser
            pos += 2
            continue
        if char in stop and (char == "]" or depth == 0):
            break
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        if char == "[":
            node, end = _square(text, pos)
            if node is not None:
                if plain:
                    nodes.append("".join(plain))
                    plain = []
                nodes.append(node)
                pos = end
                continue
            # an emphasis [x]: keep it as text, nested edits inside still resolved
            inner, end = _scan(text, pos + 1, "]")
            nodes.append("".join(plain) + "[")
            plain = []
            nodes.extend(inner)
            pos = end
            if pos < len(text):  # its "]"
                plain.append("]")
                pos += 1
            continue
        plain.append(char)
        pos += 1
    if plain:
        nodes.append("".join(plain))
    return nodes, pos


def _square(text: str, start: int):
    """An edit or alternation at ``text[start] == "["`` and the position after its ``]``, or
    (None, start) when the brackets are an emphasis (or unbalanced)."""
    parts, pos, separators = [], start + 1, []
    while True:
        nodes, pos = _scan(text, pos, ":|]")
        parts.append(nodes)
        if pos >= len(text):
            return None, start
        char = text[pos]
        pos += 1
        if char == "]":
            break
        separators.append(char)
    if separators and all(s == "|" for s in separators):
        return _Alternate(parts), pos
    if separators in ([":"], [":", ":"]):
        when_text = "".join(n for n in parts[-1] if isinstance(n, str)).strip()
        if len(parts[-1]) <= 1 and re.fullmatch(_NUMBER, when_text):
            when = float(when_text)
            before = parts[0] if len(parts) == 3 else []
            after = parts[1] if len(parts) == 3 else parts[0]
            return _Edit(before, after, when), pos
    return None, start


def _render(nodes: list, step: int, steps: int) -> str:
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Edit):
            out.append(_render(node.before if step <= switch_step(node.when, steps) else node.after,
                               step, steps))
        else:
            out.append(_render(node.options[(step - 1) % len(node.options)], step, steps))
    return "".join(out)


def switch_step(when: float, steps: int) -> int:
    """The last step (1-based) of ``from`` in ``[from:to:when]``."""
    return int(when * steps) if when < 1 else int(when)


def _has_schedule(nodes: list) -> bool:
    return any(not isinstance(n, str) for n in nodes)


def prompt_schedule(prompt: str, steps: int) -> list[tuple[int, str]]:
    """[(last step, text)] covering steps 1…``steps`` in order, one entry per run of steps with
    the same text; a prompt without edits is [(steps, prompt)]."""
    steps = max(1, int(steps))
    nodes, _ = _scan(prompt, 0, "")
    if not _has_schedule(nodes):
        return [(steps, prompt)]
    schedule: list[tuple[int, str]] = []
    for step in range(1, steps + 1):
        text = _render(nodes, step, steps)
        if schedule and schedule[-1][1] == text:
            schedule[-1] = (step, text)
        else:
            schedule.append((step, text))
    return schedule


# -- 3. weights ------------------------------------------------------------------------------
_TOKEN = re.compile(r"\\[()\[\]\\]|\(|\[|:\s*" + _NUMBER + r"\s*\)|\)|\]|[^\\()\[\]:]+|:|\\")


def parse_weights(text: str) -> list[Piece]:
    """``text`` → pieces with their attention weight (and ``BREAK`` markers)."""
    pieces: list[list] = []  # [text, weight], weight None for BREAK
    round_open: list[int] = []
    square_open: list[int] = []

    def scale(start: int, factor: float) -> None:
        for piece in pieces[start:]:
            if piece[1] is not None:
                piece[1] *= factor

    for match in _TOKEN.finditer(text):
        token = match.group(0)
        weight = _WEIGHT_CLOSE.fullmatch(token)
        if len(token) == 2 and token[0] == "\\":
            pieces.append([token[1], 1.0])
        elif token == "(":
            round_open.append(len(pieces))
        elif token == "[":
            square_open.append(len(pieces))
        elif weight is not None and round_open:
            scale(round_open.pop(), float(weight.group(1)))
        elif token == ")" and round_open:
            scale(round_open.pop(), ROUND)
        elif token == "]" and square_open:
            scale(square_open.pop(), SQUARE)
        else:
            for index, part in enumerate(_BREAK.split(token)):
                if index:
                    pieces.append(["BREAK", None])
                pieces.append([part, 1.0])
    for start in round_open:  # left open: to the end of the prompt
        scale(start, ROUND)
    for start in square_open:
        scale(start, SQUARE)

    merged: list[Piece] = []
    for piece_text, weight in pieces:
        if weight is None:
            merged.append(BREAK)
            continue
        if not piece_text:
            continue
        weight = round(weight, WEIGHT_DECIMALS)
        if merged and not is_break(merged[-1]) and merged[-1].weight == weight:
            merged[-1] = Piece(merged[-1].text + piece_text, weight)
        else:
            merged.append(Piece(piece_text, weight))
    return merged or [Piece("", 1.0)]


def plain_text(pieces: list[Piece]) -> str | None:
    """The text when the parse changes nothing the pipeline's own path can't do (every weight
    1.0, no BREAK), else None."""
    if any(is_break(p) or p.weight != 1.0 for p in pieces):
        return None
    return "".join(p.text for p in pieces)


def steps_label(steps: list[int]) -> str:
    """1-based steps as short text: "1–16", "17", "1, 3, 5, …, 19"."""
    if not steps:
        return ""
    if steps == list(range(steps[0], steps[-1] + 1)):
        return str(steps[0]) if len(steps) == 1 else f"{steps[0]}–{steps[-1]}"
    if len(steps) <= 4:
        return ", ".join(map(str, steps))
    return f"{steps[0]}, {steps[1]}, {steps[2]}, …, {steps[-1]}"
