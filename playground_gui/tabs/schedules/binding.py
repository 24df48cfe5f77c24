"""The schedule editor's fields ↔ controls: builds the ScheduleSpec and shows a selected one."""

from __future__ import annotations

from playground_gui.binding import Binding, Field

TIMESTEPS_RANGE = (2, 100_000)  # what ScheduleSpec accepts
BETA_RANGE = (0.000001, 0.999)  # the β spin boxes (6 decimals)


def clamp_beta(value: float) -> float:
    """A stored β outside the spin box's range is shown at its nearest end (as setValue did)."""
    return min(max(float(value), BETA_RANGE[0]), BETA_RANGE[1])


SCHEDULE_BINDING = Binding(
    Field("name", "name_combo", label="schedule"),
    Field("num_train_timesteps", "timesteps_spin", label="timesteps T"),
    Field("beta_start", "beta_start_spin", label="β start", from_request=clamp_beta),
    Field("beta_end", "beta_end_spin", label="β end", from_request=clamp_beta),
    Field("rescale_zero_snr", "zero_snr_check", label="zero terminal SNR"),
)
