"""The forward page without its widgets: the image shown, the closed form's result and its
renderer, the Markov chain, exports and restores, and the jobs behind them.

The engine returns x₀, one seeded ε and the schedule's ᾱ once; every slider move is then a
numpy expression into a preallocated buffer (``FrameRenderer``) that the view paints without
copying. The Markov chain, which has no shortcut, runs in the engine thread. Each kind of job
has a newest-wins ``JobSlot``: a new image, seed or schedule replaces the request before it,
and a replaced job's outcome never arrives. Testable without a window: give it an
``EngineClient`` and a ``ScheduleSet``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from engine.forward.export import export_record, frame_strip, parameters_text, save_forward_png
from engine.forward.frames import FrameRenderer, evenly_spaced_timesteps
from engine.forward.types import (
    IMAGE_SOURCES,
    AnimationRequest,
    ForwardRequest,
    LoadImageRequest,
    MarkovRequest,
)
from engine.images import to_uint8
from engine.png.record import request_from_record
from engine.schedules.types import ScheduleSpec
from playground_gui.binding import is_integer
from playground_gui.job_slots import JobSlot, Policy

SCHEDULE_SETTLE_MS = 150  # a schedule being edited is recomputed once it rests this long


def image_name(request: LoadImageRequest) -> str:
    return Path(request.path).name if request.path else IMAGE_SOURCES[request.source_key][0]


class ForwardSession(QObject):
    status = Signal(str, bool)  # text, is it an error
    image_loaded = Signal(object)  # engine.images.LoadedImage, now ``loaded``
    load_failed = Signal(str)  # the previous image stays loaded
    forward_ready = Signal(object)  # ForwardResult, now ``result``, with a new ``renderer``
    markov_started = Signal(int)  # T: the chain runs and reports its steps done
    markov_progress = Signal(int)
    markov_ready = Signal(object)  # MarkovResult, now ``markov``
    markov_running_changed = Signal(bool)
    saved = Signal(str)  # what an export wrote

    def __init__(self, engine, schedules, view_size: Callable[[], tuple[int, int]] | None = None,
                 parent=None):
        super().__init__(parent)
        self.schedules = schedules
        # Device pixels the frame view shows: the renderer draws no more than that.
        self.view_size = view_size
        self.loaded = None  # engine.images.LoadedImage now shown
        self.loaded_request: LoadImageRequest | None = None
        self.pending_load: LoadImageRequest | None = None  # the newest load, until it lands
        self.result = None  # engine.forward.types.ForwardResult
        self.renderer: FrameRenderer | None = None
        self.noise_pixels = None  # ε as display pixels (kept alive for the view)
        self.markov = None  # engine.forward.types.MarkovResult
        self.show_markov = False  # the chain is shown: every new x₀, ε or schedule reruns it
        self.seed = 0
        self.restore_t: int | None = None  # t to show once a restored image is computed
        self.restore_note = ""  # what a restore could not do, kept in the status line
        self._loads = JobSlot(engine, Policy.NEWEST_WINS, "Loading an image", parent=self)
        self._forwards = JobSlot(engine, Policy.NEWEST_WINS, "Forward process", parent=self)
        self._chains = JobSlot(engine, Policy.NEWEST_WINS, "Markov chain", parent=self)
        self._animations = JobSlot(engine, Policy.NEWEST_WINS, "Writing the animation",
                                   parent=self)
        self._schedule_timer = QTimer(self, singleShot=True, interval=SCHEDULE_SETTLE_MS)
        self._schedule_timer.timeout.connect(self.request_forward)

    @property
    def idle(self) -> bool:
        """No job of this page is running or waiting."""
        return not any(slot.busy for slot in (self._loads, self._forwards, self._chains,
                                              self._animations))

    @property
    def markov_running(self) -> bool:
        return self._chains.busy

    # -- the image -------------------------------------------------------------------------
    def load(self, request: LoadImageRequest) -> None:
        name = image_name(request)
        self.status.emit(f"Loading {name}…", False)
        self.pending_load = request
        self._loads.submit(request, description=f"Loading {name}",
                           on_success=lambda loaded: self._on_loaded(request, loaded),
                           on_failure=self._on_load_failed)

    def reload(self, **options) -> None:
        """The newest image again with other ``working_size``/``grayscale``: the newest request,
        even while it loads (a size change right after picking a source keeps that source)."""
        request = self.pending_load or self.loaded_request
        if request is not None:
            self.load(dataclasses.replace(request, **options))

    def _on_loaded(self, request: LoadImageRequest, loaded) -> None:
        self.loaded, self.loaded_request = loaded, request
        if self.pending_load == request:
            self.pending_load = None
        self.image_loaded.emit(loaded)
        self.request_forward()

    def _on_load_failed(self, message: str) -> None:
        # The previous image stays loaded; the main window shows the message in a dialog too.
        self.pending_load = None
        kept = f" Still showing {self.loaded.source}." if self.loaded is not None else ""
        self.status.emit(f"Could not load the image: {message}{kept}", True)
        self.load_failed.emit(message)

    # -- the closed form -------------------------------------------------------------------
    def set_seed(self, seed: int) -> None:
        self.restore_note = ""
        self.seed = seed
        self.request_forward()

    def schedule_changed(self) -> None:
        """The shared current schedule changed: recompute once it settles, unless shown."""
        if self.result is None or self.result.spec != self.schedules.current:
            self._schedule_timer.start()

    def request_forward(self) -> None:
        if self.loaded is None:
            return
        request = ForwardRequest(self.loaded.pixels, self.schedules.current, self.seed)
        self.status.emit(f"Drawing noise and computing ᾱ for {request.spec.label}…", False)
        loaded = self.loaded
        self._forwards.submit(
            request, on_success=lambda result: self._on_forward(loaded, result),
            on_failure=lambda message: self.status.emit(f"Could not compute: {message}", True))
        if self.show_markov:
            self.request_markov()

    def _on_forward(self, loaded, result) -> None:
        self.result = result
        view_size = self.view_size() if self.view_size is not None else None
        self.renderer = FrameRenderer(result.x0, result.noise, result.alphas_cumprod, view_size)
        self.noise_pixels = to_uint8(result.noise)
        note = self.restore_note
        self.status.emit(f"{loaded.source} · {result.spec.label} · seed {result.seed}. "
                         "Drag the slider or use ←/→, Page Up/Down, Home/End."
                         + (f" ⚠ {note}" if note else ""), bool(note))
        self.forward_ready.emit(result)

    def take_restore_t(self) -> int | None:
        """The restored t, once the restored image is the one computed (then forgotten)."""
        if self.restore_t is None or self.pending_load is not None:
            return None
        t, self.restore_t = self.restore_t, None
        return t

    def set_view_size(self, width: int, height: int) -> bool:
        """The frame view's new size; True when the renderer's buffer was replaced."""
        renderer = self.renderer
        if renderer is None:
            return False
        before = renderer.display_size
        renderer.set_display_size(width, height)
        return renderer.display_size != before

    # -- the Markov chain ------------------------------------------------------------------
    def markov_outdated(self) -> bool:
        return (self.markov is None or self.markov.spec != self.schedules.current
                or self.markov.seed != self.seed)

    def request_markov(self) -> None:
        if self.loaded is None:
            return
        self.markov = None
        request = MarkovRequest(self.loaded.pixels, self.schedules.current, self.seed)
        self._chains.submit(
            request, on_progress=lambda update: self.markov_progress.emit(update.done),
            on_success=self._on_markov,
            on_finished=lambda: self.markov_running_changed.emit(self._chains.busy))
        self.markov_started.emit(request.spec.num_train_timesteps)

    def cancel_markov(self) -> None:
        self._chains.cancel()

    def _on_markov(self, result) -> None:
        self.markov = result
        self.markov_ready.emit(result)

    # -- exports ---------------------------------------------------------------------------
    def frame_record(self, t=None, export: str = "frame") -> dict:
        """What the exports store: enough for a restore to show the same x_t."""
        request = self.loaded_request
        return export_record(self.result.spec, self.result.seed, self.loaded.source,
                             source_key=request.source_key, path=request.path,
                             working_size=request.working_size, grayscale=request.grayscale,
                             t=t, export=export)

    def export_frame(self, path: str, t: int) -> None:
        save_forward_png(path, self.renderer.pixels(t), self.frame_record(t))

    def export_strip(self, path: str, count: int) -> None:
        steps = evenly_spaced_timesteps(self.renderer.num_timesteps, count)
        save_forward_png(path, frame_strip(self.renderer, steps),
                         self.frame_record([int(t) for t in steps], export="strip"))

    def export_animation(self, path: str):
        """Write the animation in the engine thread; returns its JobHandle."""
        result = self.result
        request = AnimationRequest(path, result.x0, result.noise, result.alphas_cumprod,
                                   parameters=parameters_text(self.frame_record(export="animation")))
        started = time.perf_counter()
        return self._animations.submit(
            request, on_success=lambda written: self.saved.emit(
                f"{written} ({time.perf_counter() - started:.1f} s)"))

    # -- restore (the gallery, File → Open parameters) ------------------------------------
    def restore_schedule(self, record) -> list[str]:
        """Make the stored schedule the shared current one; notes on what could not be."""
        if not isinstance(record, dict):
            return []
        try:
            spec, _ = request_from_record(ScheduleSpec, record)
        except (TypeError, ValueError) as exc:
            return [f"the schedule ({exc})"]
        if spec in self.schedules.specs:
            self.schedules.set_current_index(self.schedules.specs.index(spec))
        else:
            self.schedules.set_current_spec(spec)
        return []

    def restore_image(self, record: dict, **options) -> list[str]:
        """Load the stored image at ``options`` (working size, grayscale) and show the stored t
        once computed. A user file that no longer exists is noted and the image shown stays."""
        notes: list[str] = []
        t = record.get("t")
        self.restore_t = t if is_integer(t) and t >= 0 else None
        key, path = record.get("source_key"), record.get("path")
        load = None
        if key in IMAGE_SOURCES:
            load = LoadImageRequest(source_key=key, **options)
        elif isinstance(path, str) and path:
            if Path(path).is_file():
                load = LoadImageRequest(path=path, **options)
            else:
                shown = self.loaded.source if self.loaded is not None else "the current image"
                notes.append(f"the image {path} no longer exists (still showing {shown})")
        else:
            notes.append(f"the image {record.get('source', '')!r} (not a built-in sample)")
        current = self.loaded_request
        if load is None and current is not None and (current.path is None
                                                     or Path(current.path).is_file()):
            load = dataclasses.replace(current, **options)  # the image shown, restored options
        if load is not None:
            self.load(load)
        else:
            self.request_forward()
        return notes

    def finish_restore(self, notes: list[str]) -> bool:
        """Keep what a restore could not do in the status line; True when it did everything."""
        self.restore_note = ("Restored, except " + "; ".join(notes) + ".") if notes else ""
        if notes:
            self.status.emit(self.restore_note, True)
        return not notes
