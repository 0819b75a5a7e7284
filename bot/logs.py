"""Logging of the process: text for a terminal, one JSON object a line for a log collector.

Every line names the replica and, inside an onboarding run, the onboarding and the step
(``services.log_context``). Every line, whatever logged it and at any level, has the
configured secrets replaced before it is written: the Slack tokens and signing secret, the
Autotask secret and integration code, the database password. Client Portal passwords are never
handed to a logger at all (they exist only in the run's report).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from typing import IO

from pydantic import SecretStr
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url

from bot.settings import Settings
from services import log_context

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4  # a shorter "secret" protects nothing and would garble every line
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Chatty libraries: httpx logs every URL at INFO; aiosqlite logs each SQL call (from its own
# thread, outside any run's context) at DEBUG.
# slack_sdk logs every Web API request and response body at DEBUG (a chat.postMessage carries
# the Client Portal password DM), Bolt every ack's body and Socket Mode every payload: their DEBUG
# is never on, whatever LOG_LEVEL says. APScheduler says at INFO that it added, ran and finished
# each job (every minute), and the Agents SDK prints its connection table over a dozen lines at
# start-up: a job's failure is still logged (ERROR), and `onboard-bot run` says Teams' mode itself.
QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "alembic": logging.WARNING,
         "aiosqlite": logging.INFO, "slack_sdk": logging.INFO, "slack_bolt": logging.INFO,
         "apscheduler": logging.WARNING,
         "microsoft_agents.hosting.core.authorization.connection_manager": logging.WARNING}  # fmt: skip


class RunContext(logging.Filter):
    """Adds ``replica`` to every record, and ``onboarding_id`` and ``step`` inside a run."""

    def __init__(self, replica: str) -> None:
        super().__init__()
        self.replica = replica

    def filter(self, record: logging.LogRecord) -> bool:
        record.replica = self.replica
        for key, value in log_context.current().items():
            setattr(record, key, value)
        return True


def _forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as written and JSON-escaped (quotes, backslashes, non-ASCII), longest first so
    a secret that contains another is replaced whole."""
    wanted = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
    forms = {form for s in wanted for form in (s, json.dumps(s)[1:-1])}
    return sorted(forms, key=len, reverse=True)


class _Redacting:
    """The configured secrets, plus the values made at run time that must never be logged
    (generated Client Portal passwords, ``log_context.never_log``)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = _forms(secrets)

    def redact(self, line: str) -> str:
        for secret in [*_forms(log_context.runtime_secrets()), *self._secrets]:
            line = line.replace(secret, REDACTED)
        return line


class JsonLines(JsonFormatter):
    """``{"time", "level", "logger", "message", "replica", "onboarding_id", "step", ...}``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
        self._redacting = _Redacting(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self._redacting.redact(super().format(record))


class Text(logging.Formatter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(TEXT_FORMAT)
        self._redacting = _Redacting(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self._redacting.redact(super().format(record))


def secrets_of(settings: Settings, *extra: str) -> list[str]:
    """Every secret value the settings hold, plus ``extra`` (e.g. the sandbox's own secret)."""
    values: list[str] = [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]
    password = make_url(settings.database_url).password
    if password:
        values.append(str(password))
    return [*values, *extra]


def configure(
    settings: Settings,
    *,
    secrets: Iterable[str] = (),
    level: int | str | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Install the process's one log handler (replacing an earlier one) and return it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    all_secrets = [*secrets_of(settings), *secrets]
    formatter: logging.Formatter = (
        JsonLines(all_secrets) if settings.log_format == "json" else Text(all_secrets)
    )
    handler.setFormatter(formatter)
    handler.addFilter(RunContext(settings.replica))
    handler.set_name("onboard-bot")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "onboard-bot"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if level is not None else settings.log_level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    return handler
