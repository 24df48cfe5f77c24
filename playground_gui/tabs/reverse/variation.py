"""The variation seed controls of the Reverse process page (AUTOMATIC1111's semantics).

With a variation seed S and strength s, x_T is the slerp from the seed's noise towards S's
noise by s (0: exactly the plain image; 1: S's noise), while a stochastic sampler's per-step
noise stays the seed's. The strength spin box keeps every double exactly (a walk frame's
strength is i/(N−1), e.g. 1/7), so a restored record makes exactly the same request.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QSpinBox, QWidget

EXACT_DECIMALS = 20  # QDoubleSpinBox rounds its value to its decimals: 20 keep a double whole


class FractionSpin(QDoubleSpinBox):
    """0 … 1, shown with up to 6 significant digits, stored exactly."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(EXACT_DECIMALS)
        self.setRange(0.0, 1.0)
        self.setSingleStep(0.05)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"


def add_variation_rows(page, form, seed_range: tuple[int, int]) -> None:
    """Add "Variation seed" (a check box and a seed) and "Variation strength" to ``form``; the
    page gets ``variation_check``, ``variation_seed_spin``, ``variation_seed_controls`` (the
    pair the binding reads) and ``variation_strength_spin``."""
    page.variation_check = QCheckBox()
    page.variation_check.setToolTip("Mix in a second seed's noise (AUTOMATIC1111's variation "
                                    "seed)")
    page.variation_seed_spin = QSpinBox(minimum=seed_range[0], maximum=seed_range[1], value=1)
    page.variation_strength_spin = FractionSpin()
    page.variation_strength_spin.setToolTip(
        "0: the plain image of the seed; 1: the variation seed's noise. x_T is the slerp "
        "between the two noises (the per-step noise of a stochastic sampler stays the seed's)")
    page.variation_seed_controls = (page.variation_check, page.variation_seed_spin)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(page.variation_check)
    layout.addWidget(page.variation_seed_spin, 1)

    def enable(on: bool) -> None:
        page.variation_seed_spin.setEnabled(on)
        page.variation_strength_spin.setEnabled(on)

    page.variation_check.toggled.connect(enable)
    enable(False)
    form.addRow("Variation seed", row)
    form.addRow("Variation strength", page.variation_strength_spin)
