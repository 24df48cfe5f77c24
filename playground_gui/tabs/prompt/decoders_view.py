"""The Prompt tab's "Decoders" page: one step's x̂₀ through the latent→RGB map, TAESD and the full
VAE, side by side, with what each costs; and the "Preview decoder" field of the settings.

The page follows the result's step slider and image; while it is visible, the step shown is
decoded three ways in one engine job (engine/stable_diffusion/preview_decoder.py:decoders_job,
newest step wins), and the results are cached per (image, step, decoder).
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from engine.stable_diffusion.preview_types import DecodersRequest, clean_location
from playground_gui.job_slots import JobSlot, Policy
from playground_gui.tabs.prompt.image_view import PromptImageView

EXPLANATION = (
    "Three ways to turn the latents of one step into pixels; here x̂₀, the model's guess at the "
    "final image at this step. The latent→RGB map multiplies each latent pixel's channels by a "
    "fixed matrix (4×3; 16×3 for SD 3 and Flux): free, but a colour sketch at the latents' size (⅛ per side). TAESD is a "
    "tiny decoder distilled from the VAE's (about 1 M parameters against 50 M): the full-size "
    "image, a little soft, for about 1/15 of the VAE's time. The full VAE is the decoder the "
    "final image gets; at 512² it costs about as much as a UNet step, so live previews use a "
    "cheap one and the step slider asks the VAE only for the step you look at. For TAESD, set a "
    "preview decoder: madebyollin/taesd (SD 1.x/2.x), taesdxl (SDXL), taesd3 (SD 3), taef1 "
    "(Flux).")


def add_preview_decoder_row(view, form) -> None:
    """The preview decoder field, "Previews" (bound: preview_decoder) in the Sampling form."""
    view.preview_decoder_edit = QLineEdit()
    view.preview_decoder_edit.setPlaceholderText("latent→RGB map (or a TAESD)")
    view.preview_decoder_edit.setToolTip(
        "A tiny autoencoder (TAESD) for full-resolution live previews every step: a folder or "
        "a hub id (downloaded once, about 10 MB): madebyollin/taesd for SD 1.x/2.x, "
        "madebyollin/taesdxl for SDXL, madebyollin/taesd3 for SD 3, madebyollin/taef1 for Flux. "
        "Empty: the cheap latent→RGB map (latent size). See the Decoders page.")
    form.addRow("Previews", view.preview_decoder_edit)  # short: the column must not scroll sideways


def add_decoders_page(view) -> DecodersPage:
    """The page, after the result panel exists (it follows the step slider)."""
    view.decoders_page = DecodersPage(view)
    view.pages.addTab(view.decoders_page, "Decoders")
    return view.decoders_page


class DecodersPage(QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.session = view.session
        self.slot = JobSlot(view.engine, Policy.NEWEST_WINS, "Decoding one step three ways",
                            parent=self)
        self.cache: dict[tuple, object] = {}  # (image, step, decoder) -> DecodersResult
        layout = QVBoxLayout(self)
        intro = QLabel(EXPLANATION)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #555")
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.views = {kind: PromptImageView(text) for kind, text in (
            ("latent_rgb", "latent→RGB map"), ("tiny", "TAESD"), ("vae", "full VAE"))}
        for image_view in self.views.values():
            image_view.canvas.setMinimumSize(120, 200)
            row.addWidget(image_view)
        layout.addLayout(row)
        self.status = QLabel("Generate an image: each step of it appears here three ways.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)  # the images keep their size; the column's rest stays empty
        self.session.result_changed.connect(lambda _result: self._clear())
        view.step_slider.valueChanged.connect(lambda _step: self.refresh())
        view.thumbnails.currentRowChanged.connect(lambda _row: self.refresh())
        view.preview_decoder_edit.editingFinished.connect(self.refresh)  # another TAESD

    def _clear(self) -> None:
        self.cache = {}
        self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def key(self) -> tuple:
        decoder = clean_location(self.view.preview_decoder_edit.text())
        return self.session.image_index, self.view.step_slider.value(), decoder

    def refresh(self):
        """Show the step at the slider (decoding it first when needed); returns the job."""
        if not self.isVisible() or self.session.result is None:
            return None
        key = self.key()
        if key in self.cache:
            self.display(self.cache[key])
            return None
        image, step, decoder = key
        latents = self.session.recorded(image, step, "x0")
        if latents is None:
            self.status.setText("This step was not recorded (see Step recording): nothing to "
                                "decode.")
            return None
        request = self.session.result_request
        self.status.setText(f"Decoding step {self.session.result.step_number(step)} three ways…")
        return self.slot.submit(
            DecodersRequest(latents, request.source, request.options, decoder, tag=key),
            on_success=self._decoded,
            on_failure=lambda message: self.status.setText(f"Could not decode: {message}"))

    def _decoded(self, result) -> None:
        self.cache[result.tag] = result
        if result.tag == self.key():
            self.display(result)

    def display(self, result) -> None:
        for kind in self.views:
            decoded = getattr(result, kind)
            if decoded.image is None:
                self.views[kind].clear()
                self.views[kind].caption.setText(f"{decoded.name}:\n{decoded.note}")
                self.views[kind].caption.setToolTip(decoded.note)
                continue
            height, width = decoded.image.shape[:2]
            self.views[kind].set_image(decoded.image, f"{decoded.name}\n{width}×{height} px\n"
                                                      f"{decoded.ms:.1f} ms per step")
        run = self.session.result.preview_decoder
        step = self.session.result.step_number(result.tag[1])
        text = f"Step {step}, image #{result.tag[0] + 1}: the decoders timed on this step."
        if run is not None:
            text += f" During the run: {run.summary()}"
        self.status.setText(text)
