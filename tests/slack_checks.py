"""What every Slack test checks after it ran, whatever it asserted itself.

Bolt answers HTTP 200 even when a listener crashed (it logs the traceback and moves on): a test
that only reads the happy path never sees it. The Slack suite's autouse fixture runs these checks
over everything a test produced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from tests.slack_stub import SlackStub


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR or above, from any logger (Bolt's, asyncio's, ours)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def report(self) -> list[str]:
        formatter = logging.Formatter("%(name)s: %(message)s")
        return [formatter.format(r) for r in self.records]


@contextmanager
def errors_logged() -> Iterator[ErrorLog]:
    """Collect ERROR records on the root logger while the block runs."""
    log = ErrorLog()
    root = logging.getLogger()
    root.addHandler(log)
    try:
        yield log
    finally:
        root.removeHandler(log)


def problems(stubs: Iterable[SlackStub], log: ErrorLog) -> list[str]:
    """Everything a Slack test must not leave behind."""
    found = [f"logged: {line}" for line in log.report()]
    for stub in stubs:
        found += [f"Slack would refuse: {line}" for line in stub.invalid]
    return found
