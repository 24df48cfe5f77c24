"""The Prompt tab's state and jobs, without a widget: testable with a real ``EngineClient``.

It holds the result shown (complete or cancelled) and the request that made it, the input
image, the cache of step frames the VAE has decoded, and one ``JobSlot`` per kind of work:

- the run (EXCLUSIVE: one at a time; Cancel withdraws a waiting run or stops a running one
  within its step, and a cancelled run's unfinished image is decoded after the job);
- the step frames (COALESCE: one decode at a time, then only the newest frame wanted);
- the prompt's tokens (COALESCE, after a short debounce while the user types);
- model loading, the cached-model list, the VAE round trip and the comparison grid
  (NEWEST_WINS: asking again replaces what is on its way).

The view connects to the signals and shows what they say; the status sentences about a run
are written here, where the facts are.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.stable_diffusion.parameters import save_items
from engine.stable_diffusion.types import (
    MAX_SEED,
    SCHEDULER_NAMES,
    CachedModelsRequest,
    ComparisonGridRequest,
    DecodeLatentsRequest,
    GenerationRequest,
    LoadModelRequest,
    LoraDeltaRequest,
    TokensRequest,
    VaeRoundTripRequest,
)
from playground_gui.job_slots import JobSlot, Policy
from playground_gui.tabs.prompt.hires_panel import hires_rows
from playground_gui.tabs.prompt.steps import preview_position, requested_steps_of, steps_phrase

TOKEN_DEBOUNCE_MS = 400  # tokenise once the user pauses typing


def draw_seed() -> int:
    return random.randint(0, MAX_SEED)


def comparison_values(vary: str, text: str) -> tuple:
    """The comma-separated values of a comparison grid, checked (ValueError says what is wrong)."""
    texts = [each.strip() for each in text.split(",") if each.strip()]
    if vary == "scheduler":
        bad = [each for each in texts if each not in SCHEDULER_NAMES]
        if bad:
            raise ValueError(f"Unknown scheduler(s): {', '.join(bad)}")
        values = tuple(texts)
    else:
        values = tuple(int(each) if vary == "steps" else float(each) for each in texts)
    if not values:
        raise ValueError("Enter comma-separated values to compare.")
    return values


class PromptSession(QObject):
    status = Signal(str, bool)  # a sentence for the status line, and whether it is an error
    run_progress = Signal(object)  # ProgressUpdate
    run_step = Signal(object, str)  # StepPreview, and where it stands ("step 3/25")
    run_succeeded = Signal(object)  # the complete GenerationResult (after result_changed)
    run_finished = Signal()  # the run is over, however it ended
    result_changed = Signal(object)  # the result now shown (complete or cancelled)
    frame_decoded = Signal(object)  # (image index, step, kind): now in ``frames``
    tokens_ready = Signal(object)  # TokenInfo, or None while no tokenizer is at hand
    tokens_failed = Signal(str)
    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str)
    model_load_cancelled = Signal()
    cached_models = Signal(object)  # list[CachedModel]
    round_trip_done = Signal(object)  # VaeRoundTripResult
    comparison_done = Signal(object)  # ComparisonGridResult
    lora_delta_done = Signal(object)  # LoraDeltaResult

    def __init__(self, engine, parent=None):
        super().__init__(parent)
        self.engine = engine
        self.result = None  # GenerationResult shown (complete or cancelled)
        self.result_request: GenerationRequest | None = None  # the request that made it
        self.image_index = 0  # which image of the result is shown
        self.frames: dict[tuple, np.ndarray] = {}  # (image, step, kind) -> decoded frame
        self.init_image: np.ndarray | None = None  # img2img/inpaint/outpaint input, uint8
        self._withdrawn = False  # the run was cancelled before its turn

        def slot(policy, description):
            return JobSlot(engine, policy, description, parent=self)

        self._run = slot(Policy.EXCLUSIVE, "Generating")
        self._decode = slot(Policy.COALESCE, "Decoding a step")
        self._tokens = slot(Policy.COALESCE, "Tokenising the prompt")
        self._loading = slot(Policy.NEWEST_WINS, "Loading the model")
        self._listing = slot(Policy.NEWEST_WINS, "Listing cached models")
        self._round_trip = slot(Policy.NEWEST_WINS, "VAE round trip")
        self._lora_delta = slot(Policy.NEWEST_WINS, "What a LoRA changes")
        self._comparison = slot(Policy.NEWEST_WINS, "Comparison grid")
        self._partial: list[JobSlot] = []  # one per image of a cancelled batch
        self._token_request: TokensRequest | None = None
        self._token_timer = QTimer(self, singleShot=True, interval=TOKEN_DEBOUNCE_MS)
        self._token_timer.timeout.connect(self._submit_tokens)

    # -- the run ---------------------------------------------------------------------------
    @property
    def running(self):
        """The run's JobHandle while it waits or runs, else None."""
        return self._run.current

    def generate(self, request: GenerationRequest):
        """Start a run; returns its JobHandle (None while another runs or the app closes)."""
        job = self._run.submit(request, on_progress=self.run_progress.emit,
                               on_step=self._on_step, on_success=self._on_result,
                               on_cancel=self._on_cancelled,
                               on_failure=lambda message: self.status.emit(message, True),
                               on_finished=self.run_finished.emit)
        if job is None:
            return None
        self._withdrawn = False
        ahead = self.engine.waiting_behind(job)
        if ahead is not None:
            self.status.emit(f"Seed {request.seed}: waiting for {ahead.label} to finish (one job "
                             "runs at a time; Cancel withdraws this run).", False)
        else:
            self._on_started(request.seed)
        job.started.connect(lambda seed=request.seed: self._on_started(seed))
        return job

    def _on_started(self, seed) -> None:
        self.status.emit(f"Seed {seed}: starting… (the first run loads the model)", False)

    def cancel(self) -> bool:
        """Cancel the run; False when there is none (or it is cancelling already)."""
        job = self._run.current
        if job is None or job.cancelling:
            return False
        waiting = self._withdrawn = job.waiting
        job.cancel()
        self.status.emit("Cancelling… (it had not started)" if waiting else
                         "Cancelling… (the model stops within its current step)", False)
        return True

    def _on_step(self, preview) -> None:
        job = self._run.current
        request = job.request if job is not None else self.result_request
        steps = None
        if request is not None:
            steps = requested_steps_of(request.steps, request.mode, request.strength)
        self.run_step.emit(preview, preview_position(preview, steps))

    def _on_result(self, result) -> None:
        self.show_result(result, self._run.current.request)
        self.run_succeeded.emit(result)
        self.status.emit(f"Done: {len(result.images)} image(s), {steps_phrase(result)} in "
                         f"{result.seconds:.1f} s with {result.scheduler_class}."
                         + "".join(f"\n⚠ {warning}" for warning in result.warnings), False)

    def _on_cancelled(self, partial) -> None:
        request = self._run.current.request
        if partial is not None and partial.partial_latents is not None:
            self._decode_partial(partial, request)
        elif partial is not None and partial.images:
            self._show_cancelled(partial, request)
        elif self._withdrawn:
            self.status.emit("Cancelled before it started.", False)
        else:
            self.status.emit("Cancelled before the first step.", False)

    def _decode_partial(self, partial, request: GenerationRequest) -> None:
        """The unfinished batch comes back as latents (x̂₀ at its last step): decode them now,
        after the job, then show them with the finished images."""
        latents = partial.partial_latents
        decoded: dict[int, np.ndarray] = {}
        self.status.emit(f"Cancelled after {partial.steps_done} model call(s); decoding what "
                         "the model predicted at that point…", False)

        def done(image) -> None:
            decoded[image.tag] = image.image
            if len(decoded) == len(latents):
                first = len(partial.images)
                seeds = tuple((request.seed + first + j) % 2**32 for j in range(len(latents)))
                self._show_cancelled(replace(
                    partial, images=partial.images + tuple(decoded[j] for j in sorted(decoded)),
                    seeds=partial.seeds + seeds, partial_latents=None), request)

        def failed(message) -> None:
            self.status.emit(f"Cancelled; the unfinished image could not be decoded: {message}",
                             True)

        # All at once, so they queue ahead of any run started meanwhile.
        while len(self._partial) < len(latents):
            self._partial.append(JobSlot(self.engine, Policy.NEWEST_WINS,
                                         "Decoding the cancelled image", parent=self))
        for index, each in enumerate(latents):
            self._partial[index].submit(
                DecodeLatentsRequest(each, request.source, request.options, tag=index,
                                     overlay=partial.overlay), on_success=done, on_failure=failed)

    def _show_cancelled(self, partial, request) -> None:
        self.show_result(partial, request)
        self.status.emit(f"Cancelled after {partial.steps_done} model call(s) of "
                         f"{steps_phrase(partial)}; showing what the model predicted at that "
                         "point (x̂₀, decoded).", False)

    # -- the result shown ------------------------------------------------------------------
    def show_result(self, result, request: GenerationRequest) -> None:
        if request.native_size:  # the size the run took (the model's), as its PNG records it
            request = replace(request, width=result.parameters["width"],
                              height=result.parameters["height"], native_size=False)
        self.result = result
        self.result_request = request
        self.image_index = 0
        self.frames = {}
        self._decode.cancel()  # frames of the result shown before are not wanted any more
        self.result_changed.emit(result)

    def shown_image(self) -> np.ndarray | None:
        if self.result is None or not self.result.images:
            return None
        return self.result.images[self.image_index]

    def shown_seed(self) -> int | None:
        return None if self.result is None else self.result.seeds[self.image_index]

    def shown_save_items(self) -> list:
        if self.result is None or not self.result.images:
            return []
        return save_items(self.result_request, self.result, [self.image_index])

    def all_save_items(self) -> list:
        if self.result is None:
            return []
        return save_items(self.result_request, self.result)

    def recorded_steps(self, index: int) -> int:
        """Steps recorded for image ``index`` (its batch's), 0 when none."""
        if self.result is None or not self.result.step_latents:
            return 0
        batch = index // max(1, self.result.parameters["batch_size"])
        if batch >= len(self.result.step_latents):
            return 0
        # Then the hires fix's second pass (hires_panel.py): one run on the slider.
        return self.result.step_latents[batch].shape[0] + hires_rows(self.result, batch)

    def recorded(self, index: int, step: int, kind: str) -> np.ndarray | None:
        """The recorded latents of image ``index`` at ``step`` (1-based): x̂₀ or x_t."""
        if step < 1 or step > self.recorded_steps(index):
            return None
        per_batch = max(1, self.result.parameters["batch_size"])
        result, batch = self.result, index // per_batch
        row = step - 1
        if row >= result.step_latents[batch].shape[0]:  # the hires fix's second pass
            row -= result.step_latents[batch].shape[0]
            result = result.hires
        runs = result.step_predictions if kind == "x0" else result.step_latents
        return runs[batch][row, index % per_batch]

    def want_frame(self, key: tuple) -> None:
        """Decode the frame ``(image, step, kind)`` with the VAE unless it is cached: one decode
        at a time, and only the newest frame wanted waits for the next."""
        latents = self.recorded(*key)
        if key in self.frames or latents is None:
            return
        result, request = self.result, self.result_request

        def decoded(image) -> None:
            if self.result is result:  # not a frame of a result replaced meanwhile
                self.frames[image.tag] = image.image
                self.frame_decoded.emit(image.tag)

        self._decode.submit(DecodeLatentsRequest(latents, request.source, request.options,
                                                 tag=key, overlay=result.overlay),
                            on_success=decoded)

    # -- tokens ----------------------------------------------------------------------------
    def tokens_wanted(self, prompt: str, source, steps: int = 25) -> None:
        """The prompt, model or steps changed: tokenise once the user pauses."""
        self._token_request = TokensRequest(prompt, source, steps)
        self._token_timer.start()

    def request_tokens(self, prompt: str, source, steps: int = 25) -> None:
        """Tokenise now (one job at a time; the newest prompt waits for the next)."""
        self._token_request = TokensRequest(prompt, source, steps)
        self._submit_tokens()

    def _submit_tokens(self) -> None:
        self._token_timer.stop()
        if self._token_request is not None:
            self._tokens.submit(self._token_request, on_success=self.tokens_ready.emit,
                                on_failure=self.tokens_failed.emit)

    # -- model, round trip, comparison -------------------------------------------------------
    def load_model(self, source, options):
        return self._loading.submit(LoadModelRequest(source, options),
                                    on_success=self.model_loaded.emit,
                                    on_failure=self.model_failed.emit,
                                    on_cancel=lambda _: self.model_load_cancelled.emit())

    def list_cached_models(self):
        return self._listing.submit(CachedModelsRequest(), on_success=self.cached_models.emit)

    def round_trip(self, image: np.ndarray, source, options):
        return self._round_trip.submit(VaeRoundTripRequest(image, source, options),
                                       on_success=self.round_trip_done.emit)

    def run_comparison(self, base: GenerationRequest, vary: str, values: tuple):
        base = replace(base, batch_size=1, batch_count=1)
        return self._comparison.submit(
            ComparisonGridRequest(base, vary, values), on_success=self.comparison_done.emit,
            on_failure=lambda message: self.status.emit(message, True))

    def lora_delta(self, lora, source, options):
        """‖ΔW‖/‖W‖ per layer of ``lora`` (a NetworkFile) on the model."""
        return self._lora_delta.submit(
            LoraDeltaRequest(lora, source, options), on_success=self.lora_delta_done.emit,
            on_failure=lambda message: self.status.emit(message, True))
