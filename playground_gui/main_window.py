"""The main window: tabs, menus, status bar, and the engine's lifetime."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from engine import APP_NAME, __version__
from engine.types import EngineInfo, StartEngineRequest
from playground_gui.engine_client import EngineClient
from playground_gui.state import ScheduleSet
from playground_gui.widgets.job_status import JobStatusWidget

log = logging.getLogger(__name__)

DEVICE_LABELS = {None: "Automatic", "cuda": "CUDA GPU", "mps": "Apple MPS", "cpu": "CPU"}


@dataclass
class TabContext:
    """What every tab may use: the engine, shared state, and a way to report problems."""

    engine: EngineClient
    schedules: ScheduleSet
    window: MainWindow


def tab_classes():
    """The tabs, in order. Imported here so each tab module stays independent of the others."""
    from playground_gui.tabs.forward_reverse_tab import ForwardReverseTab
    from playground_gui.tabs.gallery.view import GalleryTab
    from playground_gui.tabs.prompt.view import PromptTab
    from playground_gui.tabs.schedules.view import SchedulesTab
    from playground_gui.tabs.toy2d.tab import Toy2DTab

    return [SchedulesTab, ForwardReverseTab, Toy2DTab, PromptTab, GalleryTab]


def first_size(available) -> tuple[int, int]:
    """The first window size: 1360×860, but never larger than the screen's free area (a
    1366×768 laptop loses ~40 px to its panel), so the window opens whole."""
    return min(1360, available.width()), min(860, available.height())


class MainWindow(QMainWindow):
    engine_ready = Signal(object)  # EngineInfo

    def __init__(self, device: str | None = None, settings: QSettings | None = None):
        super().__init__()
        from engine.logs import setup_logging

        # Engine tracebacks go to the log file the error dialog names ("<stderr>" when the
        # data folder cannot be written: the app still runs, and says where they went).
        self.log_location = setup_logging()
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.settings = settings or QSettings()
        self.engine = EngineClient(self)
        self.schedules = ScheduleSet(parent=self)
        self.engine_info: EngineInfo | None = None
        self.torch_loaded_at_first_show: bool | None = None
        self._device = device if device is not None else (self.settings.value("engine/device") or None)
        self._engine_started = False

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for cls in tab_classes():
            # Each tab's jobs carry its name, so the job list says who asked.
            context = TabContext(self.engine.for_owner(cls.title), self.schedules, self)
            self.tabs.addTab(cls(context), cls.title)
        self.setCentralWidget(self.tabs)

        self.device_label = QLabel("Engine: starting…")
        self.device_label.setToolTip("The compute device, default precision and PyTorch version")
        self.job_status = JobStatusWidget(self.engine)
        self.statusBar().addPermanentWidget(self.job_status)
        self.statusBar().addPermanentWidget(self.device_label)
        self.engine.job_finished.connect(self._on_job_finished)
        self._build_menus()
        self._restore_geometry()
        self.setAcceptDrops(True)  # a PNG dropped anywhere shows its parameters

    # -- engine ----------------------------------------------------------------------------
    def start_engine(self) -> None:
        """Start the engine thread and load torch there; call once the window is showing."""
        if not self._engine_started:
            self._engine_started = True
            self.engine.start()
        self._request_device(self._device)

    def _request_device(self, device: str | None) -> None:
        self.device_label.setText("Engine: loading PyTorch…")
        handle = self.engine.submit(StartEngineRequest(device), "Starting the engine", "Engine")
        handle.succeeded.connect(self._on_engine_info)
        handle.failed.connect(lambda message: self.device_label.setText("Engine: device unavailable"))

    def _on_engine_info(self, info: EngineInfo) -> None:
        self.engine_info = info
        self.device_label.setText(info.summary)
        self.engine_ready.emit(info)

    def _on_job_finished(self, handle) -> None:
        # Every failure is shown; the tab that asked may show it in place as well.
        if handle.error_message is not None:
            self.show_error(f"{handle.description} failed", handle.error_message)

    def show_error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(f"{title}: {message.splitlines()[0]}", 10_000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setInformativeText(
            f"Technical details are in the log file:\n{self.log_location}"
            if self.log_location != "<stderr>" else
            "Technical details went to the terminal (standard error): the app's data folder "
            "cannot be written, so there is no log file.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # window-modal but not blocking: the engine keeps running, the app stays usable

    # -- menus -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("Open &parameters…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        open_action.setToolTip("Show (and apply) the parameters stored in a PNG")
        open_action.triggered.connect(self._open_parameters_dialog)
        file_menu.addAction(open_action)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        engine_menu = self.menuBar().addMenu("&Engine")
        device_menu = engine_menu.addMenu("&Device")
        group = QActionGroup(self)
        for key, label in DEVICE_LABELS.items():
            action = QAction(label, self, checkable=True, checked=key == self._device)
            action.triggered.connect(lambda _=False, k=key: self._choose_device(k))
            group.addAction(action)
            device_menu.addAction(action)
        cancel_action = QAction("&Cancel running job", self, shortcut=QKeySequence("Esc"))
        cancel_action.triggered.connect(self.engine.cancel_all)
        engine_menu.addAction(cancel_action)

        help_menu = self.menuBar().addMenu("&Help")
        logs_action = QAction("Open &log folder", self)
        logs_action.triggered.connect(self._open_log_folder)
        help_menu.addAction(logs_action)
        about_action = QAction("&About", self)
        about_action.triggered.connect(self._about)
        help_menu.addAction(about_action)

    def _choose_device(self, device: str | None) -> None:
        self._device = device
        self.settings.setValue("engine/device", device or "")
        self._request_device(device)

    def _open_log_folder(self) -> None:
        from pathlib import Path

        if self.log_location == "<stderr>":
            self.show_error("No log folder", "The app's data folder cannot be written, so the "
                            "log goes to the terminal (standard error).")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.log_location).parent)))

    def _about(self) -> None:
        engine = self.engine_info.summary if self.engine_info else "not started yet"
        QMessageBox.about(
            self, f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<br>See how diffusion models work, step by step."
            f"<br><br>Engine: {engine}<br>Python {sys.version.split()[0]}",
        )

    # -- restoring parameters (see playground_gui/restore.py) -------------------------------
    def can_restore(self, kind: str) -> bool:
        from playground_gui.restore import find_restorer

        return find_restorer(self.tabs, kind) is not None

    def restore(self, kind: str, request: dict) -> bool:
        """Switch to the tab that makes ``kind`` and let it set its controls from ``request``."""
        from playground_gui.restore import find_restorer

        found = find_restorer(self.tabs, kind)
        if found is None:
            self.statusBar().showMessage(f"No tab can restore images of kind '{kind}'.", 8000)
            return False
        for tab_widget, index in found[0]:
            tab_widget.setCurrentIndex(index)
        try:
            restored = bool(found[1].restore_parameters(request))
        except Exception as exc:  # a malformed record must not take the app down
            log.exception("restoring %s failed", kind)
            self.show_error("Could not restore the parameters", str(exc) or type(exc).__name__)
            return False
        self.statusBar().showMessage("Parameters restored." if restored else
                                     "Some parameters could not be restored.", 8000)
        return restored

    def open_parameters_file(self, path: str) -> None:
        """Show the parameters stored in a PNG, with Apply when a tab can restore them."""
        from playground_gui.restore import show_parameters_dialog

        self.parameters_dialog = show_parameters_dialog(self, path)

    def _open_parameters_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Open parameters of an image", "",
                                              "PNG images (*.png);;All files (*)")
        if path:
            self.open_parameters_file(path)

    def dragEnterEvent(self, event) -> None:
        from playground_gui.restore import dropped_png

        if dropped_png(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        from playground_gui.restore import dropped_png

        path = dropped_png(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.open_parameters_file(path)

    # -- lifetime --------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        if self.torch_loaded_at_first_show is None:
            self.torch_loaded_at_first_show = "torch" in sys.modules
        super().showEvent(event)

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(*first_size(self.screen().availableGeometry().size()))
        self.tabs.setCurrentIndex(int(self.settings.value("window/tab", 0) or 0))

    def closeEvent(self, event) -> None:
        if self.engine.is_shut_down:
            super().closeEvent(event)
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        # The window goes at once; the process stays only until the running block returns
        # (jobs check the cancel flag inside the model, about a second on a real SD model).
        self.hide()
        # Cancel every job and join the engine thread before Qt tears objects down; results
        # that arrive meanwhile still reach their tabs (and their auto-saves).
        self.engine.shutdown()
        self.flush_saves()
        super().closeEvent(event)

    def flush_saves(self) -> list:
        """Write what the save bars still hold (a failed save's images), so closing loses
        nothing; returns the files written."""
        from playground_gui.widgets.save_bar import SaveBar

        written = []
        for bar in self.findChildren(SaveBar):
            written += bar.flush()
        return written
