"""What every Slack test checks after it ran, whatever it asserted itself.

Bolt answers HTTP 200 even when a listener crashed (it logs the traceback and moves on), and Slack
shows a message's ``text`` in notifications, search and screen readers while the blocks show
something else: neither is visible to a test that only reads the happy path. The Slack suite's
autouse fixture runs these checks over everything a test produced.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.slack_stub import ApiCall, SlackStub

MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "respond")


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR (or ``level``) and above, from any logger (Bolt's, asyncio's,
    ours)."""

    def __init__(self, level: int = logging.ERROR) -> None:
        super().__init__(level)
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


_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")  # <url|label>, <!date^...|fallback>
_EMOJI = re.compile(r":[a-z0-9_+\-]+:")
_MARKUP = re.compile(r"[*_~`]")


def plain(text: str) -> str:
    """What a reader sees of a mrkdwn or plain_text string, for comparing two renderings."""
    text = _LINK.sub(lambda m: m.group(2), text)
    text = html.unescape(_MARKUP.sub("", _EMOJI.sub("", text)))
    return " ".join(text.split())


def _texts(node: Any) -> Iterator[str]:
    """Every text a block shows: header, section text and fields, context elements, buttons."""
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node["text"]
            return
        for key, value in node.items():
            if key not in ("url", "value", "action_id", "block_id", "confirm"):
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def disagreement(call: ApiCall) -> str | None:
    """Why a message's fallback ``text`` does not say what its blocks say, or ``None``.

    The text must be present; its every line must be shown by the blocks; and it must say the
    message's lead (the first block with text), so a notification carries the headline.
    """
    text = call.args.get("text")
    blocks = call.args.get("blocks")
    if not isinstance(text, str) or not text.strip():
        return f"{call.method} has no fallback text"
    if not blocks:
        return None  # the text is the message
    shown = plain(" ".join(_texts(blocks)))
    for line in text.splitlines():
        if plain(line) and plain(line) not in shown:
            return f"{call.method} text says {line!r}, which its blocks do not show: {shown!r}"
    lead = next((plain(t) for b in blocks for t in _texts(b) if plain(t)), "")
    if lead and lead not in plain(text):
        return f"{call.method} text {text!r} leaves out the message's lead {lead!r}"
    return None


def message_disagreements(calls: Iterable[ApiCall]) -> list[str]:
    found = (disagreement(c) for c in calls if c.method in MESSAGE_METHODS)
    return [d for d in found if d is not None]


def problems(stubs: Iterable[SlackStub], log: ErrorLog) -> list[str]:
    """Everything a Slack test must not leave behind."""
    found = [f"logged: {line}" for line in log.report()]
    for stub in stubs:
        found += [f"Slack would refuse: {line}" for line in stub.invalid]
        found += message_disagreements(stub.calls)
    return found
