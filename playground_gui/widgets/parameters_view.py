"""Showing what a PNG says about how it was made: a read-only view and the "Open parameters"
dialog (File menu, or a PNG dropped onto the window)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

from engine.png.a1111 import parameter_rows
from engine.png.chunks import PngMetadata
from playground_gui.formatting import restore_target


def metadata_html(metadata: PngMetadata | None, error: str | None = None) -> str:
    if error:
        return f"<p style='color:#b00020'>{html.escape(error)}</p>"
    if metadata is None:
        return "<p style='color:#666'>Select an image to see how it was made.</p>"
    size = f"{metadata.width} × {metadata.height} px" if metadata.width else ""
    parts = []
    if metadata.parameters is None:
        parts.append("<p><b>No generation parameters</b> are stored in this image.</p>")
        if metadata.texts:
            names = ", ".join(html.escape(k) for k in metadata.texts)
            parts.append(f"<p style='color:#666'>Text chunks present: {names}</p>")
    else:
        source = html.escape(metadata.source)
        parts.append(f"<p style='color:#555'>Made by {source}{' · ' + size if size else ''}</p>")
        rows = []
        for label, value in parameter_rows(metadata.parameters):
            text = html.escape(value).replace("\n", "<br>")
            rows.append(f"<tr><td style='color:#555; padding-right:10px' valign='top'>"
                        f"{html.escape(label)}</td><td>{text}</td></tr>")
        parts.append("<table cellspacing=0 cellpadding=2>" + "".join(rows) + "</table>")
    for warning in metadata.warnings:
        parts.append(f"<p style='color:#8a5a00'>⚠ {html.escape(warning)}</p>")
    return "".join(parts)


class ParametersView(QTextBrowser):
    """Read-only, selectable listing of an image's parameters."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.show_metadata(None)

    def show_metadata(self, metadata: PngMetadata | None, error: str | None = None) -> None:
        self.setHtml(metadata_html(metadata, error))


class ParametersDialog(QDialog):
    """The parameters of one PNG, with Apply when a tab of this app can restore them."""

    apply_requested = Signal(str, dict)  # kind, request

    def __init__(self, path: str | Path, metadata: PngMetadata, restorer_title: str | None,
                 parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self.metadata = metadata
        self.setWindowTitle(f"Parameters of {self.path.name}")
        self.resize(720, 460)

        preview = QLabel()
        preview.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        pixmap = QPixmap(str(self.path))
        if not pixmap.isNull():
            preview.setPixmap(pixmap.scaled(256, 256, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
        else:
            preview.setText("(no preview)")
        preview.setFixedWidth(264)
        self.view = ParametersView()
        self.view.show_metadata(metadata)
        top = QHBoxLayout()
        top.addWidget(preview)
        top.addWidget(self.view, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.copy_button = QPushButton("Copy parameters")
        self.copy_button.setToolTip("The AUTOMATIC1111-style text, as other tools read it")
        self.copy_button.setEnabled(metadata.parameters_text is not None)
        self.copy_button.clicked.connect(self._copy)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.target = restore_target(metadata)
        self.apply_button = QPushButton(f"Apply in “{restorer_title}”" if restorer_title else "Apply")
        self.apply_button.setEnabled(self.target is not None and restorer_title is not None)
        if self.target is None:
            self.apply_button.setToolTip("This image carries no parameters to apply.")
        elif restorer_title is None:
            self.apply_button.setToolTip(f"No tab in this version of the app restores "
                                         f"“{self.target[0]}” images yet; the parameters can "
                                         "still be copied.")
        self.apply_button.clicked.connect(self._apply)
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.hint = QLabel(self.apply_button.toolTip())
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #666")
        self.hint.setVisible(not self.apply_button.isEnabled())

        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.metadata.parameters_text or "")

    def _apply(self) -> None:
        if self.target is not None:
            self.apply_requested.emit(*self.target)
            self.accept()
