"""What a log line is about: set where the work happens, read by the process's log formatter.

Context variables follow the work into every task it starts, so a line logged by the Autotask
client in the middle of a run still names the onboarding and the step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

onboarding_id: ContextVar[str | None] = ContextVar("onboarding_id", default=None)
step: ContextVar[str | None] = ContextVar("step", default=None)


@contextmanager
def run(run_id: str, phase: str) -> Iterator[None]:
    """Lines inside are about onboarding ``run_id``; ``step`` starts at ``phase``.

    ``step.set(...)`` inside moves the step on; leaving restores both, whatever was set between.
    """
    run_token, step_token = onboarding_id.set(run_id), step.set(phase)
    try:
        yield
    finally:
        step.reset(step_token)
        onboarding_id.reset(run_token)


def current() -> dict[str, str]:
    """The context of the line being logged now (only what is set)."""
    values = {"onboarding_id": onboarding_id.get(), "step": step.get()}
    return {key: value for key, value in values.items() if value is not None}
