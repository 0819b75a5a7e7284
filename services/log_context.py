"""What a log line is about, and what it must never show: set where the work happens, read by
the process's log formatter.

Context variables follow the work into every task it starts, so a line logged by the Autotask
client in the middle of a run still names the onboarding and the step. ``never_log`` registers a
value made at run time (a generated Client Portal password) that the formatter then replaces like
the configured secrets: nothing logs one on purpose, this is the last line of defence against a
library that logs a request body.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SECRET_TTL = 3600.0  # a generated password is delivered within its run; forgotten after this
MAX_SECRETS = 1000
_secrets: OrderedDict[str, float] = OrderedDict()

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


def never_log(value: str) -> None:
    """Redact ``value`` from every log line for the next hour."""
    _secrets[value] = time.monotonic()
    _secrets.move_to_end(value)
    while len(_secrets) > MAX_SECRETS:
        _secrets.popitem(last=False)


def runtime_secrets() -> list[str]:
    """The values registered with ``never_log`` that are still recent."""
    cutoff = time.monotonic() - SECRET_TTL
    while _secrets and next(iter(_secrets.values())) < cutoff:
        _secrets.popitem(last=False)
    return list(_secrets)
