"""Stable names of the Teams front-end: card verbs and the command, in one place."""

from __future__ import annotations

import re
from enum import StrEnum

COMMAND = "onboard"

# "onboard", "onboard Acme Dental", "/onboard acme": the bot's @mention is already stripped by the
# SDK (remove_recipient_mention). The SDK's regex selectors must match the whole text.
ONBOARD = re.compile(r"\s*/?onboard(?:\s+(?P<company>.*?))?\s*", re.IGNORECASE | re.DOTALL)


class Verb(StrEnum):
    """``data.verb`` of card actions: the SDK routes task modules on it."""

    OPEN_FORM = "onboard.open"  # task/fetch: open the onboarding dialog
    CLOSE_FORM = "onboard.close"  # task/submit: the placeholder dialog's button


def company_text(text: str | None) -> str | None:
    """The company named after the command, or ``None`` if the text is not the command."""
    found = ONBOARD.fullmatch(text or "")
    if found is None:
        return None
    return (found.group("company") or "").strip()
