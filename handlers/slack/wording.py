"""What Slack tells a person whose action was refused, or whose request Autotask failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.slack.mrkdwn import literal
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import DraftGoneError, NotYourDraftError, RefusedError

# Slack's own wording where a modal is involved ("this form"); the service's everywhere else.
SLACK_KEYS: dict[type[RefusedError], str] = {
    NotYourDraftError: "slack.not_your_draft",
    DraftGoneError: "slack.draft_gone",
}


def say(t: Translator, key: str, params: Mapping[str, Any], *, mrkdwn: bool = True) -> str:
    """A catalogue message whose parameters (Autotask's or people's text) are shown literally."""
    if not mrkdwn:
        return t(key, **params)
    return t(key, **{k: literal(v) if isinstance(v, str) else v for k, v in params.items()})


def refusal(refused: RefusedError, t: Translator, *, mrkdwn: bool = True) -> str:
    """Why the person may not do this, in their language: private to them, never a crash."""
    key = next((k for cls, k in SLACK_KEYS.items() if isinstance(refused, cls)), refused.key)
    return say(t, key, refused.params, mrkdwn=mrkdwn)


def autotask_failure(exc: AutotaskError, t: Translator, *, mrkdwn: bool = True) -> str:
    """What happened with Autotask (not reached, busy, or refused with its own words) and what
    the person can do about it, in their language. ``errors.py`` decides which it is.
    ``mrkdwn=False`` for plain text (a modal's ``errors``)."""
    where = " ".join(part for part in (exc.entity, exc.operation) if part) or "API"
    return say(t, f"autotask.{exc.failure}", {"error": exc.said, "where": where}, mrkdwn=mrkdwn)
