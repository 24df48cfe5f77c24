"""Where the Stable Diffusion model comes from: a Hub id, a folder, a checkpoint, or the cache."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from engine.stable_diffusion.denoiser_types import denoiser_label
from engine.stable_diffusion.types import (
    DEFAULT_MODEL_ID,
    PICKLE_SUFFIXES,
    ModelSource,
    PipelineOptions,
)
from playground_gui.tabs.prompt.prediction_controls import prediction_combo

NOT_LOADED = "Not loaded yet: it loads with the first image (or press Load)."
PRECISIONS = (  # (label, PipelineOptions.dtype)
    ("Automatic precision", None),
    ("bfloat16 (CPU)", "bfloat16"),
    ("float32", "float32"),
    ("float16 (GPU)", "float16"),
)
SUGGESTED_IDS = (DEFAULT_MODEL_ID, "stabilityai/stable-diffusion-2-1-base", "stabilityai/sd-turbo")


def wrappable(text: str) -> str:
    """Plain text as HTML that wraps anywhere a path or URL may break (after / \\ _ - . :), so
    a long error names its path in full instead of being clipped."""
    escaped = html.escape(text)
    for mark in ("/", "\\", "_", "-", ".", ":"):
        escaped = escaped.replace(mark, mark + "\u200b")
    return escaped.replace("\n", "<br>")


def format_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class PromptModelPicker(QGroupBox):
    changed = Signal()
    load_requested = Signal()

    def __init__(self, parent=None):
        super().__init__("Model", parent)
        form = QFormLayout(self)
        self.location = QComboBox(editable=True)
        self.location.setToolTip("A Hugging Face model id, a diffusers folder, or a .safetensors "
                                 "checkpoint file. Models already in your Hugging Face cache are "
                                 "listed (marked “cached”).")
        self.location.setMinimumContentsLength(24)
        for model_id in SUGGESTED_IDS:
            self.location.addItem(model_id, model_id)
        self.location.currentTextChanged.connect(self._on_location_changed)
        form.addRow("Source", self.location)

        browse = QHBoxLayout()
        folder_button = QPushButton("Folder…")
        folder_button.setToolTip("A diffusers pipeline folder (with model_index.json)")
        folder_button.clicked.connect(self._browse_folder)
        file_button = QPushButton("Checkpoint file…")
        file_button.setToolTip("One .safetensors checkpoint (A1111/CivitAI style)")
        file_button.clicked.connect(self._browse_file)
        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("Load now (otherwise the model loads with the first image)")
        self.load_button.clicked.connect(self.load_requested)
        for button in (folder_button, file_button, self.load_button):
            browse.addWidget(button)
        form.addRow(browse)

        config_row = QHBoxLayout()
        self.config = QLineEdit(placeholderText="optional: diffusers folder of the same family")
        self.config.setToolTip("A checkpoint file holds weights only; the architecture comes from "
                               "a diffusers folder of the same model family (works offline). "
                               "Without one it comes from the Hugging Face cache or the Hub.")
        self.config.textChanged.connect(lambda _: self.changed.emit())
        config_browse = QPushButton("…")
        config_browse.setFixedWidth(28)
        config_browse.clicked.connect(self._browse_config)
        self.prediction = prediction_combo()  # single files: ε or v (prediction_controls.py)
        self.prediction.currentIndexChanged.connect(lambda _: self.changed.emit())
        config_row.addWidget(self.config)
        config_row.addWidget(config_browse)
        config_row.addWidget(self.prediction)
        self.config_label = QLabel("Config")
        form.addRow(self.config_label, config_row)
        self.allow_pickle = QCheckBox("Allow unpickling this file (can run code!)")
        self.allow_pickle.setToolTip(".ckpt/.bin files are Python pickles: loading one can run any "
                                     "code hidden in it. Only allow it for files you trust.")
        self.allow_pickle.setStyleSheet("color: #b00020")
        self.allow_pickle.toggled.connect(lambda _: self.changed.emit())
        form.addRow(self.allow_pickle)

        memory = QHBoxLayout()
        self.attention_slicing = QCheckBox("Attention slicing")
        self.attention_slicing.setToolTip("Computes attention in slices: less memory, a bit slower")
        self.vae_tiling = QCheckBox("VAE tiling")
        self.vae_tiling.setToolTip("Decodes large images tile by tile: less memory")
        self.cpu_offload = QCheckBox("CPU offload")
        self.cpu_offload.setToolTip("CUDA only: keeps each model on the CPU until it is needed")
        for box in (self.attention_slicing, self.vae_tiling, self.cpu_offload):
            box.toggled.connect(lambda _: self.changed.emit())
            memory.addWidget(box)
        form.addRow(memory)

        speed = QHBoxLayout()
        self.precision = QComboBox()
        for label, dtype in PRECISIONS:
            self.precision.addItem(label, dtype)
        self.precision.setToolTip(
            "Precision of the UNet and text encoder. Automatic: float16 on a GPU, float32 on a CPU "
            "(the VAE stays float32 beside bfloat16 and on GPUs). bfloat16 on a CPU with bf16 kernels (AVX-512 BF16, AMX): a step about 1.7× "
            "faster, images slightly different from float32; without those kernels it is slow "
            "and the model line says so. Changing it reloads the model.")
        self.precision.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.compile_unet = QCheckBox("Compile the UNet")
        self.compile_unet.setToolTip(
            "torch.compile: the first step at each image size compiles (about a minute; the "
            "result says how long), later runs reuse it for the session. Measured 1.7–1.8× "
            "faster on an H200 GPU; slower on small CPUs. While compiled, Cancel acts between "
            "steps (on a GPU after the steps already queued: a fraction of a second), and no "
            "attention maps are recorded (capturing them would recompile every run).")
        self.compile_unet.toggled.connect(lambda _: self.changed.emit())
        speed.addWidget(self.precision)
        speed.addWidget(self.compile_unet)
        speed.addStretch(1)
        form.addRow(speed)
        self.info = QLabel(NOT_LOADED)
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #555")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._info_location: str | None = None  # the source the info line speaks about
        form.addRow(self.info)
        self._on_location_changed(self.location.currentText())

    # -- the info line ---------------------------------------------------------------------
    def set_info(self, text: str, error: bool = False) -> None:
        """Say something about the current source (rich text unless ``error``); it is cleared
        as soon as another source is chosen, so an old error never sits under a new choice."""
        self._info_location = self.location.currentText().strip()
        if error:
            self.info.setToolTip("Not loaded: " + text)
            text = "<span style='color:#b00020'>Not loaded: " + wrappable(text) + "</span>"
        else:
            self.info.setToolTip(QTextDocumentFragment.fromHtml(text).toPlainText())
        self.info.setText(text)

    def show_loaded(self, info, size: tuple[int, int]) -> None:
        """The loaded model (``ModelInfo``): class, device, precision, native size, warnings,
        and a note when the chosen ``size`` (width, height) is far from what it was trained at."""
        family = f"<b>{info.family.label}</b> · " if info.family is not None else ""
        text = (f"{family}<b>{info.pipeline_class}</b> on {info.device.upper()} · "
                f"{denoiser_label(info.pipeline_class)} {info.dtype}, VAE "
                f"{info.vae_dtype} · native size {info.default_size} px · loaded in {info.seconds:.1f} s")
        if info.is_inpainting_model:
            text += "<br>Inpainting checkpoint: use inpaint/outpaint."
        for warning in info.warnings:
            text += f"<br><span style='color:#b00020'>⚠ {warning}</span>"
        if size != (info.default_size, info.default_size):
            text += (f"<br><span style='color:#8a5300'>Size {size[0]}×{size[1]} px is kept (your "
                     f"choice); this model was trained at {info.default_size} px, and far from "
                     "it images tend to repeat or lose their structure.</span>")
        self.set_info(text)

    # -- values ----------------------------------------------------------------------------
    def source(self) -> ModelSource:
        text = self.location.currentText().strip()
        index = self.location.findText(text)
        location = self.location.itemData(index) if index >= 0 and self.location.itemData(index) else text
        kind = ModelSource(location).kind
        is_file = kind == "single_file"
        return ModelSource(location, config=(self.config.text().strip() or None) if is_file else None,
                           allow_pickle=self.allow_pickle.isChecked() and self.allow_pickle.isEnabled(),
                           prediction_type=self.prediction.currentData() if is_file else None)

    def options(self, device: str | None) -> PipelineOptions:
        return PipelineOptions(device=device, dtype=self.precision.currentData(),
                               attention_slicing=self.attention_slicing.isChecked(),
                               vae_tiling=self.vae_tiling.isChecked(),
                               cpu_offload=self.cpu_offload.isChecked(),
                               compile_unet=self.compile_unet.isChecked())

    def set_precision(self, dtype: str | None) -> bool:
        """Select ``dtype`` (None: automatic); False when it is not one of the choices."""
        index = self.precision.findData(dtype)
        if index < 0:
            return False
        self.precision.setCurrentIndex(index)
        return True

    def set_location(self, location: str) -> None:
        self.location.setCurrentText(location)

    def set_cached_models(self, models) -> None:
        for model in models:
            label = f"{model.repo_id}  (cached, {format_size(model.size_bytes)})"
            existing = self.location.findData(model.repo_id)
            if existing >= 0:
                self.location.setItemText(existing, label)
            else:
                self.location.addItem(label, model.repo_id)

    # -- browsing --------------------------------------------------------------------------
    def _on_location_changed(self, text: str) -> None:
        if self._info_location is not None and text.strip() != self._info_location:
            self._info_location = None
            self.info.setText(NOT_LOADED)
            self.info.setToolTip("")
        kind = ModelSource(text.strip()).kind if text.strip() else "hub"
        is_file = kind == "single_file"
        self.config.setEnabled(is_file)
        self.prediction.setEnabled(is_file)
        self.config_label.setEnabled(is_file)
        self.allow_pickle.setEnabled(Path(text.strip()).suffix.lower() in PICKLE_SUFFIXES)
        self.changed.emit()

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a diffusers pipeline folder")
        if folder:
            self.set_location(folder)

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a checkpoint", "",
            "Safetensors checkpoints (*.safetensors);;Pickle checkpoints, unsafe (*.ckpt *.bin *.pt *.pth)")
        if path:
            self.set_location(path)

    def _browse_config(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the diffusers folder with the configs")
        if folder:
            self.config.setText(folder)
