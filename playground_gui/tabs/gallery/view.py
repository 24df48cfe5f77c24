"""Gallery tab: past outputs from the output folder, newest first, with how each was made and a
one-click restore into the tab that made it.

Widgets and layout only: the folder, listing, selection and restore routing are the session's
(session.py).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from playground_gui.preferences import Preferences
from playground_gui.restore import restorer_title
from playground_gui.tabs.gallery.session import GallerySession
from playground_gui.widgets.explanation import ExplanationPanel
from playground_gui.widgets.gallery import THUMBNAIL_SIZE, open_folder_in_file_manager
from playground_gui.widgets.parameters_view import ParametersView

PREVIEW_SIZE = 320


class GalleryTab(QWidget):
    title = "Gallery"

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.window_ = context.window
        self.session = GallerySession(
            Preferences(context.window.settings),
            title_for=lambda kind: restorer_title(context.window.tabs, kind),
            restore=context.window.restore, parent=self)
        self.model = self.session.model

        layout = QVBoxLayout(self)
        layout.addLayout(self._build_folder_row())
        # What "Open folder" could not do, with the path to copy (selectable); cleared by the
        # next folder action.
        self.folder_message = QLabel()
        self.folder_message.setWordWrap(True)
        self.folder_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_message.setStyleSheet("color: #b00020")
        self.folder_message.setVisible(False)
        layout.addWidget(self.folder_message)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_list())
        splitter.addWidget(self._build_details())
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([820, 480])
        layout.addWidget(splitter, 1)

        self.session.selection_changed.connect(self._show_selection)
        self.model.refreshed.connect(self._on_refreshed)
        self.session.open_saved_folder()
        self.session.select(None)

    @property
    def selected_path(self) -> Path | None:
        return self.session.selected_path

    @property
    def metadata(self):
        return self.session.metadata

    # -- layout ------------------------------------------------------------------------------
    def _build_folder_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Output folder:"))
        self.folder_label = QLabel()
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setStyleSheet("font-family: monospace")
        # A long path is clipped (full path in the tooltip) rather than widening the window.
        self.folder_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.folder_label, 1)
        self.change_button = QPushButton("Change…")
        self.change_button.setToolTip("Where every tab saves its images (remembered)")
        self.change_button.clicked.connect(self._choose_folder)
        self.default_button = QPushButton("Use default")
        self.default_button.clicked.connect(lambda: self.set_output_folder(None))
        self.open_folder_button = QPushButton("Open folder")
        self.open_folder_button.clicked.connect(self._open_folder)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Re-read the folder (new files also appear by themselves)")
        self.refresh_button.clicked.connect(self.model.refresh)
        for button in (self.change_button, self.default_button, self.open_folder_button,
                       self.refresh_button):
            row.addWidget(button)
        return row

    def _build_list(self) -> QWidget:
        self.list_view = QListView()
        self.list_view.setViewMode(QListView.ViewMode.IconMode)
        self.list_view.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.list_view.setGridSize(QSize(THUMBNAIL_SIZE + 28, THUMBNAIL_SIZE + 40))
        self.list_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.list_view.setMovement(QListView.Movement.Static)
        self.list_view.setUniformItemSizes(True)  # only visible items are asked for thumbnails
        self.list_view.setWordWrap(True)
        self.list_view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.list_view.setModel(self.model)
        self.list_view.selectionModel().currentChanged.connect(
            lambda current, _: self.session.select(self.model.path_at(current.row())))
        self.list_view.doubleClicked.connect(lambda _: self.restore_selected())

        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #666; padding: 40px; font-size: 11pt")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list_view)
        self.stack.addWidget(self.empty_label)
        return self.stack

    def _build_details(self) -> QWidget:
        panel = QWidget()
        panel.setMinimumWidth(360)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(PREVIEW_SIZE)
        self.preview.setStyleSheet("background: #f4f4f4; border: 1px solid #ddd")
        column.addWidget(self.preview)
        self.name_label = QLabel()
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.name_label)
        self.parameters_view = ParametersView()
        column.addWidget(self.parameters_view, 1)

        # Restore has a row of its own: its text names the tab ("Restore in “Forward / reverse
        # › Reverse process”") and must never be clipped.
        restore_row = QHBoxLayout()
        buttons = QHBoxLayout()
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Set every control of the tab that made this image")
        self.restore_button.clicked.connect(self.restore_selected)
        self.copy_image_button = QPushButton("Copy image")
        self.copy_image_button.clicked.connect(self.copy_image)
        self.copy_parameters_button = QPushButton("Copy parameters")
        self.copy_parameters_button.setToolTip("The AUTOMATIC1111-style text other tools read")
        self.copy_parameters_button.clicked.connect(self.copy_parameters)
        restore_row.addWidget(self.restore_button, 1)
        for button in (self.copy_image_button, self.copy_parameters_button):
            buttons.addWidget(button)
        column.addLayout(restore_row)
        column.addLayout(buttons)
        self.restore_hint = QLabel()
        self.restore_hint.setWordWrap(True)
        self.restore_hint.setStyleSheet("color: #666")
        column.addWidget(self.restore_hint)
        column.addWidget(ExplanationPanel("gallery.html", title="What is stored in each image?"))
        return panel

    # -- folder ------------------------------------------------------------------------------
    def set_output_folder(self, folder: str | Path | None) -> None:
        self.folder_message.setVisible(False)
        self.session.set_output_folder(folder)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the output folder",
                                                  str(self.session.preferences.output_folder))
        if folder:
            self.set_output_folder(folder)

    def _open_folder(self) -> None:
        problem = open_folder_in_file_manager(self.session.folder)
        self.folder_message.setText(problem or "")
        self.folder_message.setVisible(bool(problem))

    def showEvent(self, event) -> None:
        # The folder may have been created (first save) since it was last watched.
        self.model.refresh()
        super().showEvent(event)

    def _on_refreshed(self) -> None:
        folder = self.session.folder
        self.folder_label.setText(str(folder))
        self.folder_label.setToolTip(str(folder))
        row = self.session.row_to_select()
        if row is None:
            self.empty_label.setText(
                f"No images in {folder} yet.\n\nImages you save from the other tabs appear "
                "here, newest first. Select one to see how it was made and restore it.\n\n"
                "You can also drop any PNG onto the window (ours, or one made with "
                "AUTOMATIC1111 and similar tools) to read its parameters.")
            self.stack.setCurrentWidget(self.empty_label)
            self.session.select(None)
            return
        self.stack.setCurrentWidget(self.list_view)
        self.select_row(row)

    # -- selection ---------------------------------------------------------------------------
    def select_row(self, row: int) -> None:
        index = self.model.index(row)
        self.list_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.session.select(self.model.path_at(row))

    def _show_selection(self) -> None:
        path = self.session.selected_path
        if path is None:
            self.preview.setText("No image selected")
            self.name_label.clear()
        else:
            pixmap = QPixmap(str(path))
            if pixmap.isNull():
                self.preview.setText("This file cannot be shown as an image.")
            else:
                self.preview.setPixmap(pixmap.scaled(
                    PREVIEW_SIZE, PREVIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation if max(pixmap.width(), pixmap.height())
                    > PREVIEW_SIZE else Qt.TransformationMode.FastTransformation))
            self.name_label.setText(f"<b>{path.name}</b>")
        self.parameters_view.show_metadata(self.session.metadata, self.session.error)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.copy_image_button.setEnabled(self.session.selected_path is not None)
        self.copy_parameters_button.setEnabled(self.session.parameters_text is not None)
        target = self.session.restore_target
        title = self.session.restore_title
        self.restore_button.setEnabled(title is not None)
        refused = self.session.unrestorable_kind
        if refused is not None:
            self.restore_hint.setText(f"No tab in this version of the app restores “{refused}” "
                                      "images yet; the parameters above can still be copied.")
        else:
            self.restore_hint.clear()
        self.restore_hint.setVisible(bool(self.restore_hint.text()))
        if title:
            self.restore_button.setText(f"Restore in “{title}”")
            # The panel never gets narrower than the button's text.
            self.restore_button.setMinimumWidth(self.restore_button.sizeHint().width())
            self.restore_button.setToolTip("Set every control of that tab as it was for this image")
        else:
            self.restore_button.setText("Restore")
            self.restore_button.setToolTip(
                "This image carries no parameters." if target is None else
                f"No tab of this version can restore images of kind '{target[0]}'.")

    # -- actions -----------------------------------------------------------------------------
    def restore_selected(self) -> bool:
        return self.session.restore()

    def copy_image(self) -> None:
        path = self.session.selected_path
        if path is not None:
            image = QImage(str(path))
            if not image.isNull():
                QGuiApplication.clipboard().setImage(image)
                self.window_.statusBar().showMessage(f"Copied {path.name}", 4000)

    def copy_parameters(self) -> None:
        text = self.session.parameters_text
        if text is not None:
            QGuiApplication.clipboard().setText(text)
            self.window_.statusBar().showMessage("Copied the parameters text", 4000)
