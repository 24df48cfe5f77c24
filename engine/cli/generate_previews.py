"""``generate --previews-out DIR [--preview-decoder FOLDER_OR_ID]``: one preview PNG per recorded
step, what the app's live preview showed at that step (x̂₀).

- Names: ``DIR/0000.png`` … for a run of one image, ``DIR/<image>-<step>.png`` for more
  (``0003-0012.png``: the fourth image of the run, 0-based like its batch's seeds; step 13).
  Both numbers count from 0 with four digits: ``0000`` is step 1; the hires fix's second pass
  continues the step count after the first pass's model calls.
- Which steps: the recorded ones. ``--previews-out`` records the run within
  ``--recording-budget`` (the app's 512 MB when that is 0); a budget too small for every step
  keeps every k-th step and the last (engine/stable_diffusion/recording.py), and only those get
  a file: their names say which steps they are, and a warning says what was kept.
- Size: the output resolution through the preview decoder (TAESD), else the latent→RGB map's
  own resolution (the latents', 1/8 of the image per side). A decoder that cannot be used
  (missing, offline, the wrong latent channels) is a warning and the map's previews instead.
- The decoder's time is measured apart (one line), outside the step recording's overhead.

Files go through the one write rule (engine/cli/outputs.py): refused when previews exist in DIR
unless ``--overwrite``; never lost at write time.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from pathlib import Path

PREVIEW_NAME = re.compile(r"^\d{4}(-\d{4})?\.png$")


def add_preview_options(parser) -> None:
    group = parser.add_argument_group("previews (one PNG per recorded step)")
    group.add_argument("--previews-out", metavar="DIR",
                       help="write x̂₀ of every recorded step as DIR/0000.png … (a batch: "
                            "DIR/<image>-<step>.png, both 0-based); records the run within "
                            "--recording-budget (512 MB when 0), and a smaller budget keeps "
                            "fewer steps")
    group.add_argument("--preview-decoder", metavar="FOLDER_OR_ID",
                       help="decode the previews at the output resolution with a tiny "
                            "autoencoder (AutoencoderTiny: madebyollin/taesd for SD 1.x/2.x, "
                            "taesdxl for SDXL, taesd3 for SD 3, taef1 for Flux), a folder or a "
                            "downloaded hub id; default: the latent→RGB map at latent size")


def previews_problem(args) -> str | None:
    """Before anything loads: the options go together and DIR can take the previews."""
    from engine.cli.outputs import folder_problem

    if args.preview_decoder and not args.previews_out:
        return "--preview-decoder needs --previews-out DIR (the previews it decodes go there)"
    if not args.previews_out:
        return None
    if args.grid or args.out_dir:
        return "--previews-out does not go with --grid/--out-dir; write the previews of one run"
    folder = Path(args.previews_out)
    if not str(args.previews_out).strip():
        return "--previews-out needs a folder name (it was empty)"
    if folder.is_dir() and not args.overwrite:
        taken = sorted(p.name for p in folder.iterdir() if PREVIEW_NAME.match(p.name))
        if taken:
            return (f"{folder} already holds previews ({', '.join(taken[:3])}"
                    f"{' …' if len(taken) > 3 else ''}); choose another --previews-out or pass "
                    "--overwrite (nothing was written)")
    return folder_problem(folder)


def with_previews(request, args):
    """The request recording its steps (the previews' source) and naming the decoder."""
    from engine.stable_diffusion.types import DEFAULT_RECORDING_BUDGET_MB

    if not args.previews_out:
        return request
    budget = args.recording_budget or DEFAULT_RECORDING_BUDGET_MB
    return dataclasses.replace(request, record_steps=True, recording_budget_mb=budget,
                               preview_decoder=args.preview_decoder or None)


class PreviewFiles:
    """Writes each finished batch's recorded x̂₀ as preview PNGs and says what they cost."""

    def __init__(self, args, images_in_run: int):
        from engine.cli.outputs import OutputWriter

        self.folder = Path(args.previews_out) if args.previews_out else None
        self.decoder = args.preview_decoder
        self.numbered = images_in_run > 1
        self.writer = OutputWriter(overwrite=args.overwrite)
        self.decoding = None  # PreviewDecoding, made with the first batch (the model is loaded)
        self.size = (0, 0)
        self.count = 0
        self.map_seconds = 0.0

    def path(self, image: int, step: int) -> Path:
        """``step`` is 1-based (the engine's); names count from 0."""
        name = f"{image:04d}-{step - 1:04d}.png" if self.numbered else f"{step - 1:04d}.png"
        return self.folder / name

    def write_batch(self, request, result, first_image: int) -> None:
        if self.folder is None:
            return
        from engine.stable_diffusion.loading import get_pipeline
        from engine.stable_diffusion.preview_decoder import PreviewDecoding

        if self.decoding is None:
            pipe = get_pipeline(request.source, request.options).pipe
            self.decoding = PreviewDecoding(self.decoder, pipe)
            if self.decoding.note:
                print(f"warning: {self.decoding.note}", file=sys.stderr, flush=True)
        for steps, rows, offset in segments(result):
            for step, latents in zip(steps, rows, strict=False):  # a cancelled batch: a prefix
                self._write_step(latents, first_image, offset + step)

    def _write_step(self, latents, first_image: int, step: int) -> None:
        from engine.png.saving import write_bytes_as
        from engine.stable_diffusion.preview_decoder import decode_previews

        started = time.perf_counter()
        images = decode_previews(self.decoding, latents)
        if self.decoding.decoder is None:
            self.map_seconds += time.perf_counter() - started
        for offset, image in enumerate(images):
            data = png_bytes(image)
            self.writer.write(self.path(first_image + offset, step),
                              lambda target, overwrite, data=data: write_bytes_as(
                                  target, data, overwrite))
            self.size = (int(image.shape[1]), int(image.shape[0]))
            self.count += 1

    def report(self) -> int:
        """The previews' line and the decoder's own line; the write rule's exit code."""
        if self.folder is None:
            return 0
        width, height = self.size
        how = ("through the latent→RGB map at latent size" if self.decoding is None
               or self.decoding.decoder is None else "through the preview decoder")
        print(f"wrote {len(self.writer.written) + len(self.writer.diverted)} previews to "
              f"{self.folder} ({width}×{height} px, {how}, one per recorded step)", flush=True)
        record = self.decoding.record() if self.decoding is not None else None
        if record is not None and record.used:
            print(record.summary(), flush=True)
        elif self.count:
            print(f"latent→RGB map: {1000 * self.map_seconds / self.count:.2f} ms per preview",
                  flush=True)
        return self.writer.report()


def segments(result):
    """(1-based steps, x̂₀ rows of the first recorded batch, step offset) per pass: the run's,
    then the hires fix's second pass, whose steps follow the first pass's model calls."""
    found = []
    if result.step_predictions:
        found.append((result.recorded_steps, result.step_predictions[0], 0))
    hires = result.hires
    if hires is not None and hires.step_predictions:
        found.append((hires.recorded_steps, hires.step_predictions[0], hires.base_model_calls))
    return found


def png_bytes(image) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
