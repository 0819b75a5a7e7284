"""Text we send to Slack: escaped, and cut to Slack's limits."""

from __future__ import annotations


def escape(text: object) -> str:
    """Escape mrkdwn control characters, so a company named ``<!channel>`` pings no one."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_BLOCKS = 50
MAX_CHECKBOXES = 10
