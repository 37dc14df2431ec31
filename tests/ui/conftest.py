"""What the panel tests share: holding a panel's run at a step while a test acts on the panel."""

from __future__ import annotations

import threading

import pytest

from workbench.history import StepEvent


@pytest.fixture
def hold_at_step():
    """``started, go_on = hold_at_step(panel, step)``: the panel's next run waits at ``step`` until ``go_on``."""

    def hold(panel, step: int) -> tuple[threading.Event, threading.Event]:
        started, go_on = threading.Event(), threading.Event()
        original = panel.training._on_event

        def held(event):
            original(event)
            if isinstance(event, StepEvent) and event.step == step:
                started.set()
                go_on.wait(30)

        panel.training._on_event = held
        return started, go_on

    return hold
