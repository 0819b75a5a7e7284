"""Every log record a test produced, raw and as the process writes it (redacted)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.logs import configure
from bot.settings import Settings
from tests.slack_checks import ErrorLog


class Records(ErrorLog):
    """Every record, DEBUG and up."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)

    def text(self) -> str:
        plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(plain.format(r) + repr(r.__dict__) for r in self.records)


@contextmanager
def everything_logged(settings_secrets: list[str]) -> Iterator[tuple[Records, io.StringIO]]:
    """Every record at DEBUG, raw, and the process's own (redacting) output."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure(Settings(_env_file=None), secrets=settings_secrets, level=logging.DEBUG,
                        stream=stream)  # fmt: skip
    records = Records()
    root.addHandler(records)
    try:
        yield records, stream
    finally:
        root.removeHandler(records)
        root.removeHandler(handler)
        root.setLevel(level)
