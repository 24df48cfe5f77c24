"""LoRAs and textual-inversion embeddings on the loaded pipeline, set per request.

diffusers does the work: ``load_lora_weights`` reads both the kohya layout (``lora_unet_…`` /
``lora_te_…`` keys with ``.lora_down``/``.lora_up``/``.alpha``, as community sites publish them)
and the diffusers/peft layout, ``set_adapters`` gives each LoRA its weight, and
``load_textual_inversion`` adds an embedding under its trigger word (the file's name).

The pipeline stays loaded between jobs (loading.py), so every request brings it to exactly
what it asks for: LoRAs it names are loaded once and kept while requests keep naming them
(changing only a weight is a ``set_adapters`` call); LoRAs no longer named are deleted, and a
request without any unloads the LoRA layers entirely (``unload_lora_weights``), which gives the
base model back exactly. Embeddings work the same way.

Files are read here, not by diffusers: ``.safetensors`` directly, pickles (.pt/.ckpt/.bin) only
with the user's consent for that file, so nothing is unpickled before it is allowed.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import UserFacingError
from engine.stable_diffusion.network_files import (
    embedding_hash,
    find_lora,
    lora_hash,
)
from engine.stable_diffusion.prompt_syntax import split_extra_networks
from engine.stable_diffusion.types import PICKLE_SUFFIXES, NetworkFile

log = logging.getLogger(__name__)

PICKLE_REFUSAL = ("{name} is a pickle file ({suffix}): unpickling can run code hidden in it, so "
                  "it is not opened. Use a .safetensors version (most LoRA and embedding sites "
                  "offer one), or allow pickles for this file if you trust where it came from.")


@dataclass
class NetworkState:
    """What the loaded pipeline has applied now (kept on the LoadedPipeline)."""

    adapters: dict = field(default_factory=dict)  # file key → peft adapter name
    embeddings: dict = field(default_factory=dict)  # file key → tokens added per tokenizer


@dataclass(frozen=True)
class AppliedNetworks:
    """One request's networks as applied: the prompt the model reads and what to record."""

    prompt: str
    loras: tuple[tuple[str, float, str], ...] = ()  # (name, weight, hash)
    embeddings: tuple[tuple[str, str], ...] = ()  # (trigger word, hash)
    warnings: tuple[str, ...] = ()

    def parameters(self) -> dict:
        data = {}
        if self.loras:
            data["loras"] = [{"name": n, "weight": w, "hash": h} for n, w, h in self.loras]
        if self.embeddings:
            data["embeddings"] = [{"name": n, "hash": h} for n, h in self.embeddings]
        return data


def _file_key(path: Path) -> tuple:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def read_tensors(network: NetworkFile) -> dict:
    """The file's tensors; a pickle is refused, before it is opened, unless allowed for it."""
    from engine.runtime import import_torch

    path = Path(os.path.expanduser(network.path))
    if not path.is_file():
        raise UserFacingError(f"The file {path} does not exist.")
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        if not network.allow_pickle:
            raise UserFacingError(PICKLE_REFUSAL.format(name=path.name, suffix=suffix))
        torch = import_torch()
        log.warning("unpickling %s because the user allowed it", path)
        try:
            data = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception:  # a full pickle: allowed for this file, so load it as one
            data = torch.load(str(path), map_location="cpu", weights_only=False)
        return data.get("state_dict", data) if isinstance(data, dict) else data
    if suffix != ".safetensors":
        raise UserFacingError(f"{path.name} is not a LoRA or embedding file; choose a "
                              ".safetensors file.")
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:
        raise UserFacingError(f"{path.name} is not a readable .safetensors file: {exc}") from exc


def check_options(options, wanted: bool) -> None:
    """LoRA layers change the UNet's modules, which a compiled UNet would silently recompile
    for (or run without) and fused QKV projections would bypass: refuse with a sentence."""
    if not wanted:
        return
    if options.compile_unet:
        raise UserFacingError("LoRAs do not work with a compiled UNet (torch.compile would "
                              "recompile whenever the LoRAs change): turn “Compile” off.")
    if options.fuse_qkv:
        raise UserFacingError("LoRAs do not work with fused QKV projections (the fused layer "
                              "bypasses the LoRA's query/key/value layers): turn one off.")


def requested_loras(request) -> tuple[str, list[NetworkFile]]:
    """The prompt without ``<lora:…>`` tags, and the LoRAs: the request's own, then the tags'
    (looked up in ``request.lora_dir``)."""
    prompt, tags = split_extra_networks(request.prompt)
    loras = list(request.loras)
    for kind, name, weight in tags:
        if kind == "lora":
            loras.append(NetworkFile(str(find_lora(request.lora_dir, name)), weight))
    return prompt, loras


def apply_networks(loaded, request) -> AppliedNetworks:
    """Bring the loaded pipeline to the request's LoRAs and embeddings (see the module doc)."""
    prompt, loras = requested_loras(request)
    _, other_tags = split_extra_networks(request.prompt)
    warnings = [f"<{kind}:{name}> is not supported here and was ignored"
                for kind, name, _ in other_tags if kind != "lora"]
    check_options(loaded.options, bool(loras))
    state: NetworkState = loaded.networks
    with quiet_libraries():
        applied_loras = apply_loras(loaded.pipe, state, loras)
        applied_embeddings = _apply_embeddings(loaded.pipe, state, request.embeddings)
    return AppliedNetworks(prompt, applied_loras, applied_embeddings, tuple(warnings))


def apply_loras(pipe, state: NetworkState, loras: list[NetworkFile]):
    weights: dict[tuple, float] = {}  # the same file twice: its weights add up
    files: dict[tuple, NetworkFile] = {}
    for network in loras:
        path = Path(os.path.expanduser(network.path))
        key = _file_key(path) if path.is_file() else None
        if key is None:
            raise UserFacingError(f"The LoRA file {path} does not exist.")
        weights[key] = weights.get(key, 0.0) + float(network.weight)
        files.setdefault(key, network)
    gone = [key for key in state.adapters if key not in weights]
    if gone and len(gone) == len(state.adapters):
        pipe.unload_lora_weights()  # the base modules back, no LoRA layers left
        state.adapters.clear()
    elif gone:
        pipe.delete_adapters([state.adapters.pop(key) for key in gone])
    for key, network in files.items():
        if key not in state.adapters:
            name = f"lora{len(state.adapters)}_{abs(hash(key)) % 10**8}"
            try:
                pipe.load_lora_weights(read_tensors(network), adapter_name=name)
            except UserFacingError:
                raise
            except Exception as exc:
                _forget_adapter(pipe, name, keep_layers=bool(state.adapters))
                raise UserFacingError(f"{Path(network.path).name} is not a LoRA for this model "
                                      f"({type(exc).__name__}: {str(exc)[:200]}).") from exc
            state.adapters[key] = name
    if state.adapters:
        pipe.set_adapters([state.adapters[key] for key in weights],
                          adapter_weights=list(weights.values()))
    return tuple((files[key].name, weights[key], lora_hash(key[0])) for key in weights)


def _forget_adapter(pipe, name: str, keep_layers: bool) -> None:
    """Undo a LoRA that failed half-way through loading."""
    try:
        if keep_layers:
            pipe.delete_adapters([name])
        else:
            pipe.unload_lora_weights()
    except Exception:  # never registered: nothing more to undo
        log.debug("adapter %s was not registered", name, exc_info=True)


def _apply_embeddings(pipe, state: NetworkState, embeddings) -> tuple:
    wanted = {}
    for network in embeddings:
        path = Path(os.path.expanduser(network.path))
        if not path.is_file():
            raise UserFacingError(f"The embedding file {path} does not exist.")
        wanted.setdefault(_file_key(path), network)
    for key in [k for k in state.embeddings if k not in wanted]:
        for tokenizer, text_encoder, tokens in state.embeddings.pop(key):
            pipe.unload_textual_inversion(tokens=tokens, tokenizer=tokenizer,
                                          text_encoder=text_encoder)
    for key, network in wanted.items():
        if key not in state.embeddings:
            state.embeddings[key] = _load_embedding(pipe, network)
    return tuple((network.name, embedding_hash(key[0])) for key, network in wanted.items())


def _load_embedding(pipe, network: NetworkFile) -> list:
    """Load one embedding under its trigger word (SDXL files hold one per text encoder)."""
    tensors = read_tensors(network)
    pairs = [(pipe.tokenizer, pipe.text_encoder, tensors)]
    if getattr(pipe, "tokenizer_2", None) is not None and isinstance(tensors, dict) \
            and "clip_g" in tensors:
        pairs = [(pipe.tokenizer, pipe.text_encoder, tensors["clip_l"]),
                 (pipe.tokenizer_2, pipe.text_encoder_2, tensors["clip_g"])]
    elif isinstance(tensors, dict) and "clip_l" in tensors:
        pairs = [(pipe.tokenizer, pipe.text_encoder, tensors["clip_l"])]
    added = []
    for tokenizer, text_encoder, data in pairs:
        before = set(tokenizer.get_added_vocab())
        try:
            pipe.load_textual_inversion(data, token=network.name, tokenizer=tokenizer,
                                        text_encoder=text_encoder)
        except Exception as exc:
            for done_tokenizer, done_encoder, tokens in added:
                pipe.unload_textual_inversion(tokens=tokens, tokenizer=done_tokenizer,
                                              text_encoder=done_encoder)
            raise UserFacingError(f"{Path(network.path).name} is not an embedding for this model "
                                  f"({str(exc)[:200]}).") from exc
        added.append((tokenizer, text_encoder,
                      sorted(set(tokenizer.get_added_vocab()) - before)))
    return added


@contextmanager
def quiet_libraries():
    """transformers prints a load report (every base weight "MISSING") for each text-encoder
    LoRA, peft warns about a second adapter: they say nothing to a user."""
    import warnings

    from transformers.utils import logging as transformers_logging

    level = transformers_logging.get_verbosity()
    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            # peft, for every LoRA after the first: several adapters is what we want.
            warnings.filterwarnings("ignore", message="Already found a `peft_config`")
            yield
    finally:
        transformers_logging.set_verbosity(level)
        if bars:
            transformers_logging.enable_progress_bar()
