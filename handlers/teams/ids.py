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
    CLOSE_FORM = "onboard.close"  # task/submit: a dialog's Close button
    # task/submit inside the form's dialog (``data.draft`` names the draft)
    FORM_NEXT = "onboard.next"  # save the page, check it, the next page or the review
    FORM_BACK = "onboard.back"  # the previous page, keeping what was typed
    FORM_CHANGE = "onboard.change"  # an answer others depend on changed: the page redrawn
    RESUME_DRAFT = "onboard.resume"
    NEW_DRAFT = "onboard.start_over"
    REVIEW_BACK = "onboard.review_back"
    APPLY = "onboard.apply"
    POLL = "onboard.continue"  # after "Autotask is taking longer": the outcome, once ready
    # Action.Execute (Universal Actions) on a run's progress card (``data.onboarding``)
    RETRY = "onboard.retry"
    CANCEL = "onboard.cancel"


# ``Data.Query`` datasets of the form's typeahead: ``onboard:<draft id>:<field path>``
DATASET_PREFIX = "onboard:"


def dataset_of(draft_id: str, path: str) -> str:
    return f"{DATASET_PREFIX}{draft_id}:{path}"


def parse_dataset(dataset: str) -> tuple[str, str] | None:
    """(draft id, field path) of a typeahead's dataset, ``None`` if it is not one of ours."""
    if not dataset.startswith(DATASET_PREFIX):
        return None
    draft_id, sep, path = dataset[len(DATASET_PREFIX) :].partition(":")
    return (draft_id, path) if sep and draft_id and path else None


def company_text(text: str | None) -> str | None:
    """The company named after the command, or ``None`` if the text is not the command."""
    found = ONBOARD.fullmatch(text or "")
    if found is None:
        return None
    return (found.group("company") or "").strip()
