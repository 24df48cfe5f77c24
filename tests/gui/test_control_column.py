"""The scrolling control column: the wheel scrolls it, and changes only a control in use."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QSpinBox, QVBoxLayout, QWidget

from playground_gui.widgets.control_column import scrolling_column


def wheel(widget, steps: int = -1) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_an_unfocused_spin_box_scrolls_the_column_not_the_value(qtbot):
    panel = QWidget()
    layout = QVBoxLayout(panel)
    spins = [QSpinBox(minimum=0, maximum=999, value=500) for _ in range(30)]
    for spin in spins:
        layout.addWidget(spin)
    scroll = scrolling_column(panel, 200, 300)
    qtbot.addWidget(scroll)
    scroll.resize(250, 200)
    scroll.show()
    qtbot.waitExposed(scroll)

    wheel(spins[2])
    assert spins[2].value() == 500
    assert scroll.verticalScrollBar().value() > 0  # the column scrolled instead

    spins[2].setFocus()
    qtbot.waitUntil(spins[2].hasFocus)
    wheel(spins[2])
    assert spins[2].value() == 499  # a control the user is in still takes the wheel
