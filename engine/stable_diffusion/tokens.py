"""How a prompt is tokenised, and what the text encoder's 77-token window cuts off."""

from __future__ import annotations

from engine.stable_diffusion.types import TokenInfo, TokensRequest


def token_info(tokenizer, text: str) -> TokenInfo:
    limit = int(tokenizer.model_max_length)
    ids = tokenizer(text, truncation=False, add_special_tokens=False).input_ids
    tokens = tuple(tokenizer.convert_ids_to_tokens(ids))
    usable = limit - 2  # the start and end markers take two of the positions
    truncated = tokenizer.decode(ids[usable:]).strip() if len(ids) > usable else ""
    return TokenInfo(tokens=tokens, max_tokens=limit, truncated_text=truncated)


def tokens_job(request: TokensRequest, reporter) -> TokenInfo | None:
    """Job handler: use the loaded model's tokenizer, else load only the tokenizer (cheap).

    None when no tokenizer is at hand yet (a model neither loaded nor cached): that is a normal
    state while typing, not an error worth a dialog.
    """
    from engine.errors import UserFacingError

    try:
        tokenizer = tokenizer_for(request.source)
    except UserFacingError:
        return None
    return token_info(tokenizer, request.prompt)


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
