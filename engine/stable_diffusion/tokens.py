"""How a prompt is tokenised: the prompt syntax resolved (prompt_syntax.py), the tokens the text
encoder reads in chunks of 75 (each between a start and an end marker), with their weights."""

from __future__ import annotations

from engine.stable_diffusion.prompt_syntax import (
    is_break,
    parse_weights,
    plain_text,
    prompt_schedule,
    split_extra_networks,
    steps_label,
)
from engine.stable_diffusion.types import TokenInfo, TokensRequest


def chunk_ids(tokenizer, pieces, convert=None) -> list[list[tuple[int, float]]]:
    """Parsed pieces → chunks of at most 75 (token id, weight); ``BREAK`` ends a chunk.
    ``convert``: the pipeline's textual-inversion rewrite of a text (multi-vector tokens)."""
    usable = int(tokenizer.model_max_length) - 2
    chunks: list[list[tuple[int, float]]] = [[]]
    for piece in pieces:
        if is_break(piece):
            if chunks[-1]:
                chunks.append([])
            continue
        text = convert(piece.text) if convert is not None else piece.text
        for token_id in tokenizer(text, truncation=False, add_special_tokens=False).input_ids:
            if len(chunks[-1]) == usable:
                chunks.append([])
            chunks[-1].append((token_id, piece.weight))
    while len(chunks) > 1 and not chunks[-1]:
        chunks.pop()
    return chunks


def token_info(tokenizer, text: str, steps: int = 25, chunked: bool = True) -> TokenInfo:
    """The tokens the text encoder reads for ``text`` at its first step; the other texts of
    prompt editing/alternation in ``later``. ``chunked``: the generation encodes long prompts
    in chunks (else the first 75 tokens are all it reads, as the pipelines' own path does)."""
    clean, _ = split_extra_networks(text)
    schedule = prompt_schedule(clean, steps)
    if len(schedule) == 1:
        return _text_info(tokenizer, schedule[0][1], chunked)
    used: dict[str, list[int]] = {}
    first = 1
    for last, step_text in schedule:
        used.setdefault(step_text, []).extend(range(first, last + 1))
        first = last + 1
    infos = [_text_info(tokenizer, step_text, chunked, steps_label(step_list))
             for step_text, step_list in used.items()]
    return TokenInfo(**{**infos[0].__dict__, "later": tuple(infos[1:])})


def _text_info(tokenizer, text: str, chunked: bool, steps: str = "") -> TokenInfo:
    limit = int(tokenizer.model_max_length)
    pieces = parse_weights(text)
    if not chunked:
        plain = plain_text(pieces)
        ids = tokenizer(text if plain is None else plain, truncation=False,
                        add_special_tokens=False).input_ids
        usable = limit - 2  # the start and end markers take two of the positions
        truncated = tokenizer.decode(ids[usable:]).strip() if len(ids) > usable else ""
        return TokenInfo(tokens=tuple(tokenizer.convert_ids_to_tokens(ids)), max_tokens=limit,
                         truncated_text=truncated, steps=steps)
    chunks = chunk_ids(tokenizer, pieces)
    ids = [token_id for chunk in chunks for token_id, _ in chunk]
    return TokenInfo(
        tokens=tuple(tokenizer.convert_ids_to_tokens(ids)), max_tokens=limit, truncated_text="",
        weights=tuple(weight for chunk in chunks for _, weight in chunk),
        chunk_of=tuple(c for c, chunk in enumerate(chunks) for _ in chunk),
        positions=tuple(c * limit + 1 + k for c, chunk in enumerate(chunks) for k in range(len(chunk))),
        steps=steps)


def tokens_job(request: TokensRequest, reporter) -> TokenInfo | None:
    """Job handler: use the loaded model's tokenizer, else load only the tokenizer (cheap).

    None when no tokenizer is at hand yet (a model neither loaded nor cached): that is a normal
    state while typing, not an error worth a dialog.
    """
    from engine.errors import UserFacingError
    from engine.stable_diffusion.loading import loaded_pipeline
    from engine.stable_diffusion.prompt_encoding import syntax_support

    try:
        tokenizer = tokenizer_for(request.source)
    except UserFacingError:
        return None
    loaded = loaded_pipeline()
    chunked = loaded is None or loaded.source != request.source or not syntax_support(loaded.pipe)
    return token_info(tokenizer, request.prompt, request.steps, chunked)


_tokenizers: dict = {}


def tokenizer_for(source):
    from engine.stable_diffusion.loading import loaded_pipeline

    loaded = loaded_pipeline()
    if loaded is not None and loaded.source == source:
        return loaded.pipe.tokenizer
    if source not in _tokenizers:
        _tokenizers[source] = _load_tokenizer(source)
    return _tokenizers[source]


def _load_tokenizer(source):
    """The model's tokenizer from local files only (no download while the user types)."""
    from transformers import CLIPTokenizer

    from engine.errors import UserFacingError

    folder = _local_tokenizer_folder(source)
    # transformers 5 builds an empty tokenizer from a folder without vocab.json instead of
    # failing, so the files are checked here.
    if folder is None or not (folder / "vocab.json").is_file() or not (folder / "merges.txt").is_file():
        raise UserFacingError("The model's tokenizer is not available yet: load the model first.")
    return CLIPTokenizer.from_pretrained(str(folder))


def _local_tokenizer_folder(source):
    from pathlib import Path

    if source.kind == "folder":
        return Path(source.location).expanduser() / "tokenizer"
    if source.kind == "single_file":
        config = Path(source.config) if source.config else Path(source.location).with_suffix("")
        return config.expanduser() / "tokenizer"
    from huggingface_hub import snapshot_download

    try:
        snapshot = snapshot_download(source.location, allow_patterns=["tokenizer/*"],
                                     local_files_only=True)
    except Exception:  # not cached, invalid id, …: no tokenizer at hand
        return None
    return Path(snapshot) / "tokenizer"
