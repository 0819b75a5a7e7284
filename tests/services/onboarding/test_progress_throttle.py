"""The progress message's throttle: step-by-step progress at most once a second, but a wait for
Autotask shown at once even when it is shorter than that second (the reader must see why the run
paused), and the end always."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.onboarding.attempts import Waiting
from services.onboarding.presenter import MessageRef, Requester, RunView, StepView, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(step_state: str, waiting: Waiting | None = None, status: str = "applying") -> RunView:
    steps = [StepView("company", "company", {}, [], "done"),
             StepView("note", "note", {}, [], step_state)]  # fmt: skip
    return RunView("ob-1", 7, "Acme", status, steps, Requester("slack", "U1"), waiting=waiting)


async def test_progress_is_held_back_but_a_short_wait_for_autotask_is_shown_at_once() -> None:
    clock, shown = Clock(), []

    async def show(ref: MessageRef, run: RunView) -> None:
        shown.append(run.state)

    throttle = Throttle(min_interval=1.0, clock=clock)
    throttle.opened("ts1")
    clock.now += 0.2
    await throttle.update("ts1", {}, _run("running"), show)
    assert shown == []  # progress within the second: held back
    clock.now += 0.1
    wait = Waiting("unreachable", "", datetime.now(UTC), "note")
    await throttle.update("ts1", {}, _run("running", wait), show)
    assert shown == ["waiting"]  # a change of state: at once
    clock.now += 0.1
    await throttle.update("ts1", {}, _run("running"), show)
    assert shown == ["waiting", "applying"]  # going on again is a change of state too
    await throttle.finish("ts1", {}, _run("done", status="applied"), show)
    assert shown == ["waiting", "applying", "applied"]
    await asyncio.sleep(0)


async def test_held_back_progress_is_shown_when_the_second_has_passed() -> None:
    shown: list[str] = []

    async def show(ref: MessageRef, run: RunView) -> None:
        shown.append(run.steps[-1].state)

    throttle = Throttle(min_interval=0.05)
    throttle.opened("ts1")
    await throttle.update("ts1", {}, _run("running"), show)
    await throttle.update("ts1", {}, _run("done"), show)
    assert shown == []
    await asyncio.sleep(0.12)
    assert shown == ["done"]  # only the newest of what was held back
