"""Adaptive Cards as pure functions of data, built with Microsoft's typed card models.

Every text goes out as a ``TextRun`` (no markdown), so an organization named ``[x](http://...)``
renders as typed. Cards declare schema 1.5, the highest Teams renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    ExecuteAction,
    OpenUrlAction,
    RichTextBlock,
    SubmitAction,
    SubmitActionData,
    TaskFetchSubmitActionData,
    TextRun,
)

from handlers.teams.ids import Verb
from services.i18n import Translator

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERSION = "1.5"


def text(value: str, *, heading: bool = False, subtle: bool = False) -> RichTextBlock:
    run = TextRun(text=value)
    if heading:
        run = run.with_weight("Bolder").with_size("Medium")
    if subtle:
        run = run.with_is_subtle(True)
    return RichTextBlock(inlines=[run])


Button = SubmitAction | ExecuteAction | OpenUrlAction


def card(body: Sequence[CardElement], actions: Sequence[Button] | None = None) -> dict[str, Any]:
    """The card as the JSON dict Teams receives (the SDK passes a dict through unchanged)."""
    built = AdaptiveCard(version=VERSION, body=list(body), actions=list(actions or []) or None)
    return built.model_dump(exclude_none=True, by_alias=True)


def open_dialog(title: str, verb: Verb, **data: Any) -> SubmitAction:
    """A button that opens a dialog: Teams sends ``task/fetch`` with ``data`` (and ``verb``)."""
    payload = SubmitActionData(
        msteams=TaskFetchSubmitActionData().model_dump(exclude_none=True), verb=str(verb)
    )
    for key, value in data.items():
        setattr(payload, key, value)
    return SubmitAction(title=title, data=payload)


def submit(title: str, verb: Verb, **data: Any) -> SubmitAction:
    """A button inside a dialog: Teams sends ``task/submit`` with ``data`` and the inputs."""
    return SubmitAction(title=title, data={"verb": str(verb), **data})


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": content}


# ----- the cards ---------------------------------------------------------------------------------


def onboard_card(t: Translator, company: str | None) -> dict[str, Any]:
    """The answer to "onboard [company]": what happens next, and the button that opens the form."""
    intro = t("teams.onboard_intro", company=company) if company else t("teams.onboard_intro_any")
    return card(
        [text(t("teams.title"), heading=True), text(intro)],
        [open_dialog(t("teams.open_form"), Verb.OPEN_FORM, company=company or "")],
    )


def notice_card(t: Translator, message: str) -> dict[str, Any]:
    """A message with the product's title: refusals, Autotask trouble, help."""
    return card([text(t("teams.title"), heading=True), text(message)])


def refusal_card(t: Translator, email: str | None) -> dict[str, Any]:
    """Why this person may not onboard, in their language."""
    if not email:
        return notice_card(t, t("teams.no_email"))
    return notice_card(t, t("teams.not_allowed", email=email))
