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


def tokens_job(request: TokensRequest, reporter) -> TokenInfo:
    """Job handler: use the loaded model's tokenizer, else load only the tokenizer (cheap)."""
    return token_info(tokenizer_for(request.source), request.prompt)


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
    from pathlib import Path

    from transformers import CLIPTokenizer

    from engine.errors import UserFacingError

    if source.kind == "single_file":
        if not source.config:
            folder = Path(source.location).with_suffix("")
            location = str(folder) if (folder / "tokenizer").is_dir() else None
        else:
            location = source.config
        if location is None:
            raise UserFacingError("The token view needs the model loaded first (its tokenizer "
                                  "comes with the model's config).")
    else:
        location = source.location
    try:
        return CLIPTokenizer.from_pretrained(location, subfolder="tokenizer")
    except OSError as exc:
        raise UserFacingError("The token view needs the model's tokenizer; load the model first "
                              f"({str(exc).splitlines()[0]}).") from exc
