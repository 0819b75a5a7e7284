"""Text we send to Slack: escaped, cut to Slack's limits, and a message's fallback text."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
    TextObject,
)


def escape(text: object) -> str:
    """Escape mrkdwn control characters, so a company named ``<!channel>`` pings no one."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_BLOCKS = 50
MAX_CHECKBOXES = 10


def fallback(blocks: Sequence[Block], limit: int = 3000) -> str:
    """A message's ``text``: the plain rendering of its blocks, which is what notifications,
    search and screen readers show instead of them, so the two always say the same. Buttons are
    left out; whole lines are kept up to ``limit``; ``text`` is mrkdwn, so plain parts are escaped.
    """
    lines: list[str] = []
    size = 0
    for piece in (p for block in blocks for p in _shown(block)):
        for line in piece.splitlines():
            if size + len(line) + 1 > limit:
                return "\n".join(lines)
            lines.append(line)
            size += len(line) + 1
    return "\n".join(lines)


def _shown(block: Block) -> list[str]:
    if isinstance(block, HeaderBlock):
        return [_mrkdwn(block.text)] if block.text is not None else []
    if isinstance(block, SectionBlock):
        return [_mrkdwn(t) for t in (block.text, *(block.fields or ())) if t is not None]
    if isinstance(block, ContextBlock):
        return [_mrkdwn(e) for e in block.elements if isinstance(e, TextObject)]
    return []


def _mrkdwn(text: TextObject) -> str:
    return text.text if isinstance(text, MarkdownTextObject) else escape(text.text)
