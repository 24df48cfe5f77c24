"""The tiny autoencoder (TAESD, diffusers' ``AutoencoderTiny``) as an optional preview decoder.

The latent→RGB map (previews.py) costs nothing but shows latent-size colour blobs; the full
VAE decoder shows the real image but costs about as much as a UNet step. TAESD (Ollin Boer
Bohan's distilled decoder, about 1 M parameters, 10 MB) decodes the same latents to a
full-resolution image for about 1/15 of the VAE's time (512², CPU: bench_preview_decoders.py),
so a run can show every step's x̂₀ as a picture.

Which latents it takes. diffusers' pipelines decode ``latents / vae.config.scaling_factor``
(``+ shift_factor`` where set), and ``AutoencoderTiny`` is documented as a drop-in
``pipe.vae``: TAESD/TAESDXL carry ``scaling_factor`` 1.0 (they were distilled on the latents as
the diffusion model holds them, i.e. already × 0.18215 / 0.13025), and the same formula with
the tiny decoder's *own* config is right for any other (TAESD3/TAEF1). Its ``latent_magnitude``
and ``latent_shift`` only pack latents into uint8 images (``scale_latents``), never decoding.
Its decoder clamps its input (tanh(x/3)·3) and, like the VAE's, returns [−1, 1].
(tests/engine/stable_diffusion/test_preview_decoder.py pins this against a pipeline that has
the tiny decoder as its VAE.)

It loads like a model (a folder, a hub id, the Hugging Face cache; safetensors only, never
remote code), stays cached between runs, sits on the pipeline's device in the VAE's dtype, and
must share the model's latent channels and size factor. When it cannot be used, the previews
go through the latent→RGB map and the run says why (a note, not an error).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from engine.errors import UserFacingError
from engine.stable_diffusion.loading import (
    _is_offline_error,
    _looks_like_path,
    _offline_mode,
    get_pipeline,
    hub_reachable,
)
from engine.stable_diffusion.preview_types import (
    LATENT_RGB,
    TINY_DECODER_NAMES,
    TINY_DECODERS,
    DecodedBy,
    DecodersRequest,
    DecodersResult,
    PreviewDecoderRecord,
    clean_location,
    decoders_for_channels,
)
from engine.stable_diffusion.previews import latents_to_rgb

_cache: dict = {}  # {(location, device, dtype): AutoencoderTiny}, one entry: the last used


def model_family(pipe) -> str:
    """The loaded model's family name (families.py), "SD 1.x" when it cannot tell."""
    from engine.stable_diffusion.families import SD1, detect_family

    found = detect_family(pipe)
    return found.name if found is not None else SD1


def decoder_label(location: str) -> str:
    """"TAESDXL" for the known ones, else the folder's (or id's) own name."""
    name = TINY_DECODER_NAMES.get(location.strip("/"))
    return name or Path(location.rstrip("/\\")).name or location


# -- loading ------------------------------------------------------------------------------------
def load_preview_decoder(location: str, device, dtype):
    """The ``AutoencoderTiny`` at ``location`` on ``device`` in ``dtype`` (cached)."""
    key = (location, str(device), str(dtype))
    if key not in _cache:
        decoder = _read(location).to(device=device, dtype=dtype)
        decoder.eval()
        _cache.clear()  # one decoder at a time
        _cache[key] = decoder
    return _cache[key]


def _read(location: str):
    from diffusers import AutoencoderTiny

    folder = Path(os.path.expanduser(location))
    if folder.is_dir():
        _check_folder(folder)
        try:
            return AutoencoderTiny.from_pretrained(str(folder), local_files_only=True,
                                                   use_safetensors=True)
        except (OSError, ValueError) as exc:
            raise UserFacingError(f"Could not read the preview decoder {folder}: "
                                  f"{str(exc).splitlines()[0]}") from exc
    if _looks_like_path(location) or folder.exists():
        raise UserFacingError(f"The preview decoder folder {location} does not exist.")
    local_only = not hub_reachable()
    try:
        return AutoencoderTiny.from_pretrained(location, use_safetensors=True,
                                               local_files_only=local_only)
    except Exception as exc:  # noqa: BLE001 — every failure becomes one sentence
        raise _friendly_error(exc, location) from exc


def _check_folder(folder: Path) -> None:
    config = folder / "config.json"
    if not config.is_file():
        raise UserFacingError(
            f"{folder} is not a preview decoder folder (it has no config.json). Choose the "
            "folder of a diffusers AutoencoderTiny, e.g. a download of madebyollin/taesd.")
    try:
        name = json.loads(config.read_text(encoding="utf-8")).get("_class_name", "")
    except (OSError, ValueError, AttributeError):
        name = ""
    if name != "AutoencoderTiny":
        raise UserFacingError(f"{folder} holds a {name or 'model of unknown class'}, not a tiny "
                              "autoencoder (AutoencoderTiny, e.g. madebyollin/taesd).")
    if not any(folder.glob("*.safetensors")):
        raise UserFacingError(f"{folder} has no .safetensors weights (pickles are not loaded "
                              "for a preview decoder).")


def _friendly_error(exc: Exception, location: str) -> UserFacingError:
    if isinstance(exc, UserFacingError):
        return exc
    if _is_offline_error(exc) or isinstance(exc, OSError) and not hub_reachable():
        reason = ("offline mode is on (HF_HUB_OFFLINE=1)" if _offline_mode()
                  else "the Hugging Face Hub cannot be reached")
        return UserFacingError(
            f"The preview decoder {location} is not in the Hugging Face cache and {reason}. It "
            f"is about 10 MB: go online once (`hf download {location}`), or give the folder "
            "of a downloaded copy.")
    names = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
    if names & {"RepositoryNotFoundError", "GatedRepoError"}:
        return UserFacingError(f"The Hub has no public preview decoder called {location}; the "
                               f"tiny decoders are {', '.join(sorted(set(TINY_DECODERS.values())))}.")
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return UserFacingError(f"Could not load the preview decoder {location}: {first}")


def check_fits(decoder, pipe, location: str) -> None:
    """The decoder must take the model's latents: same channels, same size factor."""
    family = model_family(pipe)
    channels = int(decoder.config.latent_channels)
    wanted = int(pipe.vae.config.latent_channels)
    right = TINY_DECODERS.get(family, decoders_for_channels(wanted))
    if channels != wanted:
        raise UserFacingError(
            f"The preview decoder {location} decodes {channels}-channel latents (like "
            f"{decoders_for_channels(channels)}), but this {family} model's latents have "
            f"{wanted} channels: use {right} as its preview decoder.")
    factor = decoder_factor(decoder)
    model_factor = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    if factor != model_factor:
        raise UserFacingError(
            f"The preview decoder {location} enlarges the latents ×{factor}, this model's VAE "
            f"×{model_factor}: they do not share a latent space (use {right}).")


def decoder_factor(decoder) -> int:
    """How much the tiny decoder enlarges each side (×8 for the real TAESDs)."""
    config = decoder.config
    return int(config.upsampling_scaling_factor) ** (len(config.num_decoder_blocks) - 1)


# -- decoding -----------------------------------------------------------------------------------
def tiny_decode(decoder, latents):
    """Scaled latents (B×C×h×w, as the pipeline holds them) → B×3×H×W in [−1, 1], on the
    decoder's device: the pipelines' formula with the tiny decoder's own config."""
    z = latents.to(device=decoder.device, dtype=decoder.dtype) / decoder.config.scaling_factor
    shift = getattr(decoder.config, "shift_factor", None)
    if shift:
        z = z + shift
    return decoder.decode(z, return_dict=False)[0]


class DecoderClock:
    """Time spent in the decoder without waiting for the device: CUDA events on a GPU (read at
    the end, when the run has synchronised anyway), the wall clock elsewhere."""

    def __init__(self):
        self.seconds = 0.0
        self.count = 0
        self._events: list = []

    def start(self, device):
        if device.type == "cuda":
            from engine.runtime import import_torch

            begin = import_torch().cuda.Event(enable_timing=True)
            begin.record()
            return begin
        return time.perf_counter()

    def stop(self, started) -> None:
        self.count += 1
        if isinstance(started, float):
            self.seconds += time.perf_counter() - started
            return
        from engine.runtime import import_torch

        end = import_torch().cuda.Event(enable_timing=True)
        end.record()
        self._events.append((started, end))

    def total(self) -> float:
        for begin, end in self._events:
            end.synchronize()
            self.seconds += begin.elapsed_time(end) / 1000.0
        self._events = []
        return self.seconds


class PreviewDecoding:
    """A run's preview decoder: TAESD when one is given and fits, else the latent→RGB map.

    The step recorder hands over x̂₀ of the preview's image (``device_image``: a uint8 image
    tensor on the device, copied to the host with the preview's other tensors); ``record``
    says what it cost.
    """

    def __init__(self, location: str | None, pipe):
        self.location = clean_location(location)
        self.decoder = None
        self.note = ""
        self.clock = DecoderClock()
        self.size = (0, 0)
        if self.location is None:
            return
        try:
            vae = pipe.vae
            device = getattr(pipe, "_execution_device", None) or vae.device
            decoder = load_preview_decoder(self.location, device, vae.dtype)
            check_fits(decoder, pipe, self.location)
            self.decoder = decoder
        except Exception as exc:  # noqa: BLE001 — a preview decoder never fails the run
            self.fail(exc)

    def fail(self, exc: Exception) -> None:
        self.decoder = None
        reason = str(exc) if isinstance(exc, UserFacingError) else f"{type(exc).__name__}: {exc}"
        self.note = f"Previews went through the latent→RGB map instead: {reason}"

    def device_image(self, x0):
        """``x0`` (1×C×h×w on the device) → 1×H×W×3 uint8 on the device; None without a
        decoder (or when it failed: the note says why)."""
        if self.decoder is None:
            return None
        from engine.runtime import import_torch

        torch = import_torch()
        try:
            started = self.clock.start(self.decoder.device)
            with torch.inference_mode():
                image = tiny_decode(self.decoder, x0)
                image = ((image.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
            self.clock.stop(started)
        except Exception as exc:  # noqa: BLE001 — e.g. out of memory: fall back, keep going
            self.fail(exc)
            return None
        self.size = (int(image.shape[-1]), int(image.shape[-2]))
        return image.permute(0, 2, 3, 1)

    def record(self) -> PreviewDecoderRecord | None:
        if self.location is None:
            return None
        return PreviewDecoderRecord(self.location, self.decoder is not None, self.clock.count,
                                    round(self.clock.total(), 6), self.size, self.note)


def decode_previews(decoding: PreviewDecoding, latents: np.ndarray) -> list[np.ndarray]:
    """Recorded x̂₀ (B×C×h×w, host) → B images: through the decoder, else the latent→RGB map."""
    from engine.runtime import import_torch

    torch = import_torch()
    if decoding.decoder is not None:
        tensor = torch.from_numpy(np.asarray(latents, dtype=np.float32))
        images = decoding.device_image(tensor.to(decoding.decoder.device))
        if images is not None:
            return list(images.cpu().numpy())
    return [latents_to_rgb(each) for each in latents]


# -- the Decoders page's job ----------------------------------------------------------------------
def decoders_job(request: DecodersRequest, reporter) -> DecodersResult:
    """One recorded step through the latent→RGB map, the tiny decoder and the full VAE, each
    timed (the tiny decoder after one warm-up call; the VAE once: it is slow)."""
    from engine.runtime import import_torch
    from engine.stable_diffusion.cancel_hooks import cancel_checks
    from engine.stable_diffusion.generation import decode_latents

    torch = import_torch()
    latents = np.asarray(request.latents, dtype=np.float32)
    started = time.perf_counter()
    sketch = latents_to_rgb(latents)
    latent_rgb = DecodedBy(LATENT_RGB, sketch, 1000 * (time.perf_counter() - started))
    loaded = get_pipeline(request.source, request.options, reporter)
    pipe = loaded.pipe
    batch = torch.from_numpy(latents[None])
    tiny = DecodedBy("TAESD", None, note="none set (Sampling: “Previews”)")
    decoding = PreviewDecoding(request.preview_decoder, pipe)
    if decoding.decoder is not None:
        decoding.device_image(batch)  # warm-up
        decoding.clock = DecoderClock()
        image = decoding.device_image(batch)
        record = decoding.record()
        tiny = DecodedBy(decoder_label(decoding.location),
                         None if image is None else image[0].cpu().numpy(),
                         record.ms_per_preview, decoding.note)
    elif decoding.note:
        tiny = DecodedBy("TAESD", None, note=decoding.note)
    started = time.perf_counter()
    with cancel_checks(reporter.cancel_event, pipe.vae), torch.inference_mode():
        full = decode_latents(pipe, batch)[0]
    vae = DecodedBy("full VAE", full, 1000 * (time.perf_counter() - started))
    return DecodersResult(latent_rgb, tiny, vae, request.tag)

