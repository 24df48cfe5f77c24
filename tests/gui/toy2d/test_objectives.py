"""The 2D toy's objectives in the GUI: the objective control (binding), flow's samplers and the
refusal sentence, and the comparison window (ε and v with zero SNR next to flow matching)."""

from __future__ import annotations

import pytest

from engine.reporting import Reporter
from engine.schedules.types import ScheduleSpec
from engine.toy2d.types import DatasetSpec, ModelConfig, TrainRequest


@pytest.fixture
def flow_model_file(tmp_path):
    from engine.toy2d.storage import save_model
    from engine.toy2d.training import run_train_job

    state = run_train_job(TrainRequest(dataset=DatasetSpec("circles"), steps=5, objective="flow",
                                       config=ModelConfig(hidden=16, layers=1)), Reporter())
    path = tmp_path / "flow.safetensors"
    save_model(state.model, path)
    return path


def test_the_objective_control_builds_the_training_and_resume_keeps_the_run(qtbot):
    from playground_gui.state import ScheduleSet
    from playground_gui.tabs.toy2d.binding import CONTROLS, train_request
    from playground_gui.tabs.toy2d.view import Toy2DView

    view = Toy2DView()
    qtbot.addWidget(view)
    assert CONTROLS.read(view)["objective"] == "eps"
    offered = [view.sampler_combo.itemData(i) for i in range(view.sampler_combo.count())]
    assert {"euler", "heun"} <= set(offered)  # the DDPM family's, and flow matching's
    assert len(offered) == len(set(offered))
    assert CONTROLS.restore(view, {"objective": "v"}) == []
    request = train_request(CONTROLS.read(view), DatasetSpec("circles"), ScheduleSet().current)
    assert request.objective == "v"
    CONTROLS.restore(view, {"objective": "flow"})
    zero_snr = ScheduleSpec.preset("linear", 1000, True)
    with pytest.raises(ValueError, match="no sense"):  # the tab shows this sentence
        train_request(CONTROLS.read(view), DatasetSpec("circles"), zero_snr)


def test_a_flow_model_samples_with_euler_and_refuses_ddpm(toy_tab, qtbot, flow_model_file):
    tab = toy_tab
    tab.points_spin.setValue(100)
    tab.load_model(str(flow_model_file))
    assert tab.objective_combo.currentData() == "flow"
    assert tab.sampler_combo.currentData() == "euler"  # fitted to the model
    assert "flow matching" in tab.model_label.text()
    qtbot.waitUntil(lambda: tab.session.sample_result is not None, timeout=60_000)
    result = tab.session.sample_result
    assert result.objective == "flow" and result.num_inference_steps == 50
    tab.sampler_combo.setCurrentIndex(tab.sampler_combo.findData("ddpm"))
    tab.start_sampling()
    assert "Use euler or heun" in tab.quality_label.text()
    assert not tab.session.sampling


def test_the_comparison_window_draws_three_objectives_from_one_noise(toy_tab, qtbot):
    tab = toy_tab
    tab.compare_button.click()
    window = tab.objective_window
    assert window.isVisible() and "zero terminal SNR" in window.explanation.body.toPlainText()
    window.session.start(DatasetSpec("circles"), tab.schedules.current, 20, 0, num_points=100)
    assert not window.run_button.isEnabled()
    with qtbot.waitSignal(window.session.ready, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: window.run_button.isEnabled(), timeout=10_000)
    eps, v, flow = window.captions
    assert "from t = 998" in eps.text() and "would divide by 0" in eps.text()
    assert "from t = 999" in v.text() and "finite" in v.text()
    assert "from t = 1" in flow.text()
    starts = [items[3].getData()[0] for items in window.items]
    assert all((each == starts[0]).all() for each in starts)  # the same noise in all three
    window.close()


def test_training_paths_are_segments_for_flow_and_arcs_for_the_ddpm_family():
    import numpy as np

    from engine.toy2d.objective_compare import straightness
    from playground_gui.tabs.toy2d.objective_view import training_paths

    noise, sample = np.array([[2.0, 0.0]]), np.array([[0.0, 1.0]])
    for objective, expected in (("flow", 1.0), ("v", None)):
        line = training_paths(objective, noise, sample, count=50)
        path = line[np.isfinite(line[:, 0])]
        np.testing.assert_allclose(path[[0, -1]], [noise[0], sample[0]])
        ratio = straightness(path[:, None, :])
        if expected:
            assert ratio == pytest.approx(1.0)
        else:  # √s·x₀ + √(1−s)·ε: a quarter ellipse, chord/length ≈ 0.91 here
            assert 0.8 < ratio < 0.95
