"""The samplers page wired up: its buttons build requests from its own controls and the toy
tab's (the picked model, seed, Langevin K and δ, training points), ``SamplerLabSession`` runs
them, and the results are drawn by ``lab_plots``."""

from __future__ import annotations

from engine.toy2d.datasets import sample_dataset
from engine.toy2d.types import (
    MemorisationRequest,
    PathsRequest,
    SampleRequest,
    SamplerLabRequest,
    ScoreErrorRequest,
)
from playground_gui.tabs.toy2d import lab_plots
from playground_gui.tabs.toy2d.binding import CONTROLS
from playground_gui.tabs.toy2d.lab_session import SamplerLabSession
from playground_gui.tabs.toy2d.lab_view import SamplerLabView
from playground_gui.tabs.toy2d.plots import error_text

CHAIN_BACKDROP = 1000  # real points behind the chains


def parse_steps(text: str) -> tuple[int, ...]:
    """"8,16,32" → (8, 16, 32); ValueError with a sentence for anything else."""
    try:
        return tuple(int(item) for item in text.replace(" ", "").split(",") if item)
    except ValueError:
        raise ValueError(f"Step counts are whole numbers separated by commas, not {text!r}.") \
            from None


class SamplerLabPage(SamplerLabView):
    def __init__(self, engine, tab, parent=None):
        super().__init__(parent)
        self.tab = tab  # the toy tab: its controls and its session's trained model
        self.session = SamplerLabSession(engine, parent=self)
        self.chain_real = None
        self.paths_button.clicked.connect(self.draw_paths)
        self.chains_button.clicked.connect(self.run_chains)
        self.error_button.clicked.connect(self.compare_with_exact)
        self.memorisation_button.clicked.connect(self.show_memorisation)
        self.lab_button.clicked.connect(self.toggle_lab)
        self.session.ready.connect(self._show)
        self.session.failed.connect(self._on_failed)
        self.session.progress.connect(self._on_progress)
        self.session.busy_changed.connect(self.update_buttons)

    # -- requests ----------------------------------------------------------------------------
    def _settings(self) -> dict:
        return CONTROLS.read(self.tab)

    def _model(self, kind: str | None = None):
        """The picked model (or the ``kind`` one); ValueError (for people) when there is none."""
        settings = self._settings()
        if kind is not None:
            settings = {**settings, "model_kind": kind}
        model = self.tab.session.sampling_model(settings)
        if model is None:
            raise ValueError("No trained model yet: train one, or pick an exact model under "
                             "Sample from.")
        return model

    def _submit(self, kind: str, build, message: str) -> None:
        try:
            request = build()
        except ValueError as exc:
            self.status_label.setText(error_text(str(exc)))
            return
        if self.session.submit(kind, request):
            self.status_label.setText(message)

    def draw_paths(self) -> None:
        self._submit("paths", lambda: PathsRequest(
            model=self._model(), num_points=self.path_points_spin.value(),
            draws=self.path_draws_spin.value(), steps=self.path_steps_spin.value(),
            seed=self._settings()["seed"]), "Drawing ODE and SDE paths…")

    def run_chains(self) -> None:
        def build():
            settings, model = self._settings(), self._model()
            self.chain_real = sample_dataset(model.dataset, CHAIN_BACKDROP, settings["seed"])
            return SampleRequest(
                model=model, sampler=self.chain_sampler_combo.currentData(),
                num_points=self.chain_count_spin.value(),
                num_inference_steps=self.chain_levels_spin.value(), seed=settings["seed"],
                langevin_steps=settings["langevin_steps"],
                langevin_step_size=settings["langevin_step_size"], max_frames=100_000)

        self._submit("chains", build, "Running Langevin chains…")

    def compare_with_exact(self) -> None:
        def build():
            if self.tab.session.model is None:
                raise ValueError("Train a model first: this compares the trained network with "
                                 "the exact ε̂.")
            return ScoreErrorRequest(model=self.tab.session.model, seed=self._settings()["seed"])

        self._submit("error", build, "Comparing the learned and exact ε̂ over t…")

    def show_memorisation(self) -> None:
        self._submit("memorisation", lambda: MemorisationRequest(
            exact=self._model("ideal"), model=self.tab.session.model,
            seed=self._settings()["seed"]), "Sampling the ideal denoiser (all T steps)…")

    def toggle_lab(self) -> None:
        if self.session.busy("lab"):
            self.session.cancel("lab")
            return

        def build():
            settings = self._settings()
            exact = self._model("exact" if self._is_mixture() else "ideal")
            steps = parse_steps(self.lab_steps_edit.text())
            # RK4 with 8× the most steps: its error is far below any run's (the status says
            # how far it moves with half its steps).
            return SamplerLabRequest(dataset=exact.dataset, schedule=exact.schedule, steps=steps,
                                     reference_steps=min(100_000, 8 * max(steps, default=1)),
                                     training_points=settings["training_points"],
                                     seed=settings["seed"])

        self.lab_progress.setValue(0)
        self._submit("lab", build, "Sampler lab running (Cancel stops it)…")

    def _is_mixture(self) -> bool:
        model = self.tab.session.model
        name = model.dataset.name if model is not None else self._settings()["dataset"]
        return name == "gaussian_mixture"

    # -- results -----------------------------------------------------------------------------
    def _show(self, kind: str, result) -> None:
        if kind == "paths":
            lab_plots.draw_paths(self.paths_plot.getPlotItem(), result)
            text = "ODE and SDE paths drawn."
        elif kind == "chains":
            lab_plots.draw_chains(self.chains_plot.getPlotItem(), result, self.chain_real)
            text = (f"{result.trajectory.shape[1]} chains, {len(result.timesteps) - 1} moves "
                    f"({result.sampler}).")
        elif kind == "error":
            lab_plots.draw_score_error(self.error_plot.getPlotItem(), result)
            text = f"Learned ε̂ against the {result.reference}."
        elif kind == "memorisation":
            lab_plots.draw_memorisation(self.memorisation_plot.getPlotItem(), result)
            lab_plots.draw_distance_histograms(self.histogram_plot.getPlotItem(), result)
            text = "Ideal denoiser sampled with DDIM through all T steps."
        else:
            lab_plots.draw_lab(self.lab_plot.getPlotItem(), result)
            orders = ", ".join(f"{name} {order:.2f}" for name, order in result.orders.items())
            text = (f"Fitted orders p ({result.model}): {orders}. The reference moves by "
                    f"{result.reference_change:.1g} with half its steps.")
        self.status_label.setText(text)

    def _on_failed(self, kind: str, message: str) -> None:
        self.status_label.setText("Cancelled." if not message else
                                  error_text(f"{kind.capitalize()} failed: {message}"))

    def _on_progress(self, kind: str, update) -> None:
        if kind == "lab":
            self.lab_progress.setRange(0, max(1, update.total))
            self.lab_progress.setValue(update.done)

    def update_buttons(self) -> None:
        training = self.tab.session.training
        for button in (self.paths_button, self.chains_button, self.error_button,
                       self.memorisation_button):
            button.setEnabled(not training)
        lab_running = self.session.busy("lab")
        self.lab_button.setText("Cancel" if lab_running else "Run sampler lab")
        self.lab_button.setEnabled(lab_running or not training)
