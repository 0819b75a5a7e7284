"""The Slack formatter: every piece of Slack markup the bot sends is made here.

The message catalogues are shared by every front-end and carry no markup; Slack's bold, mentions,
channel links, emoji, dates and code spans are added by these functions around catalogue text and
its parameters. Text that comes from Autotask or from people (company names, Autotask's error
texts, e-mails) goes through ``literal`` wherever it lands in mrkdwn, the ``text`` of a message
included, so ``<!channel> Evergreen *Bold* <@U123>`` pings no one and shows as typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
    TextObject,
)

MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_BLOCKS = 50
MAX_CHECKBOXES = 10

# Slack has no escape for its formatting characters, only HTML entities for & < >. A date token
# with an invalid format shows its fallback text as is, unformatted: the strategy of jsx-slack's
# <Escape> (docs/slack-facts.md).
_FORMATTING = re.compile(r"[*_~`]|:(?=[\w+'-]+:)")  # bold, italic, strike, code; an :emoji: code
_QUOTE = re.compile(r"^&gt;", re.MULTILINE)  # ">" opening a line quotes it, even as &gt;
SOFT_HYPHEN = "\u00ad"


def _kept(match: re.Match[str]) -> str:
    return f"<!date^0^{{_}}|{match.group(0)}>"


def literal(text: object) -> str:
    """Autotask's or a person's text, shown exactly as written: no ping, link or formatting."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _QUOTE.sub(SOFT_HYPHEN + "&gt;", _FORMATTING.sub(_kept, escaped))


def bold(text: str) -> str:
    """``text`` (already formatted: pass Autotask text through ``literal`` first) in bold."""
    return f"*{text}*"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def emoji(name: str) -> str:
    return f":{name}:"


def code(text: str) -> str:
    """A code span; its content is never formatted (a password's ``*`` or ``_`` stay)."""
    return f"`{text}`"


def date(moment: datetime, shown_as: str = "{date_short_pretty} {time}") -> str:
    """A moment shown in the reader's own time zone; in UTC where the client cannot."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{shown_as}|{fallback}>"


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fallback(blocks: Sequence[Block], limit: int = 3000) -> str:
    """A message's ``text``: the plain rendering of its blocks, which is what notifications,
    search and screen readers show instead of them, so the two always say the same. Buttons are
    left out; whole lines are kept up to ``limit``; ``text`` is mrkdwn, so plain parts go through
    ``literal`` like any other text.
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
    return text.text if isinstance(text, MarkdownTextObject) else literal(text.text)
