"""The device offer as an Adaptive Card, and its Review card (one choice per device).

The card names the offer and nothing about who may act: ``buttons.py`` asks the device follow-up
about the Teams member who pressed. The buttons are Universal Actions (``Action.Execute``) with
the verbs Slack's buttons use as action ids. Teams refuses messages over about 28 KB, so the
offer lists at most ``LISTED`` devices and Review at most ``REVIEWED``; the rest are counted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    ExecuteAction,
    OpenUrlAction,
    RichTextBlock,
    ShowCardAction,
    TextRun,
)

from handlers.teams.cards import VERSION, text
from handlers.teams.reminders.cards import when
from services.devices.cards import (
    ATTACHED,
    ATTACHING,
    DISMISSED,
    ENDED,
    FAILED,
    SNOOZED,
    AttachOutcome,
    AttachPreview,
    DeviceCard,
    DeviceLine,
    ReviewForm,
)
from services.i18n import Translator

LISTED = 30  # devices listed on the offer's card, over all groups
REVIEWED = 20  # devices given a choice on the Review card (each carries every service)
DEVICE = "device_"  # Review's input ids: device_<configuration item id>
SKIP = "skip"  # Review's "skip" choice
OFFER = "offer"  # the data key every button carries


class Verb(StrEnum):
    """``action.verb`` of the device cards' buttons; ``buttons.py`` routes on them."""

    ATTACH = "devices_attach"
    REVIEW = "devices_review"
    NOT_MANAGED = "devices_not_managed"
    COMPLETE = "devices_complete"
    SNOOZE_DAY = "devices_snooze_day"
    SNOOZE_WEEK = "devices_snooze_week"
    REVIEW_SUBMIT = "devices_review_submit"  # Review's Attach: the choices ride in the data
    REVIEW_BACK = "devices_review_back"  # Review's Back: the offer's card again


def _dump(card: AdaptiveCard) -> dict[str, Any]:
    return card.model_dump(exclude_none=True, by_alias=True)


def _execute(title: str, verb: Verb, offer: int, *, primary: bool = False) -> ExecuteAction:
    action = ExecuteAction(title=title, verb=str(verb), data={OFFER: str(offer)})
    return action.with_style("positive") if primary else action


def _warning(value: str) -> RichTextBlock:
    return RichTextBlock(inlines=[TextRun(text=value).with_color("Attention")])


def _line(d: DeviceLine) -> str:
    return f"• {d.name} ({d.kind})" if d.kind else f"• {d.name}"


def outcome_lines(outcome: AttachOutcome, t: Translator) -> list[str]:
    """What an attach did, one sentence a line (the same sentences as Slack's DM)."""
    lines: list[str] = []
    if outcome.attached:
        names = ", ".join(f"{d.name} → {d.service}" for d in outcome.attached)
        lines.append(t("devices.outcome.attached", n=len(outcome.attached), devices=names))
    lines += [t("devices.outcome.units", service=u.service, before=u.before, after=u.after)
              for u in outcome.units]  # fmt: skip
    lines += [t("devices.outcome.skipped", device=s.name, reason=t(f"devices.skip.{s.reason}"))
              for s in outcome.skipped]  # fmt: skip
    if outcome.status == "failed":
        lines.append(t("devices.outcome.failed", step=outcome.failed_step or "-",
                       error=outcome.error or "-"))  # fmt: skip
    return lines


def _title(card: DeviceCard, t: Translator) -> str:
    if card.state == ENDED:
        return t(f"devices.ended.{card.ended or 'complete'}", company=card.company_name,
                 contract=card.contract_name)  # fmt: skip
    if card.state == DISMISSED:
        return t("devices.dismissed", company=card.company_name)
    key = "devices.title_more" if card.outcome else "devices.title"
    return t(key, n=card.device_count, company=card.company_name, contract=card.contract_name)


def _groups(card: DeviceCard, t: Translator) -> list[CardElement]:
    body: list[CardElement] = []
    room = LISTED
    for group in card.groups:
        head = (t("devices.group", service=group.service) if group.service_id
                else t("devices.no_suggestion"))  # fmt: skip
        shown = group.devices[: max(room, 0)]
        room -= len(shown)
        lines = [_line(d) for d in shown]
        if len(group.devices) > len(shown):
            lines.append(t("devices.more", n=len(group.devices) - len(shown)))
        body += [text(head, heading=True), *(text(line) for line in lines)]
    return body


def device_card(card: DeviceCard, t: Translator, *, tz: str | None = None) -> dict[str, Any]:
    """The offer in its current state (the same card is sent, then updated in place)."""
    body: list[CardElement] = [text(_title(card, t), heading=True)]
    if card.outcome is not None:
        shown = _warning if card.state == FAILED else text
        body += [shown(line) for line in outcome_lines(card.outcome, t)]
        if card.state == FAILED:
            body.append(text(t("devices.retry"), subtle=True))
    if card.state in (ENDED, DISMISSED):
        actions: list[Action] = []
        if card.link:
            actions.append(OpenUrlAction(title=t("slack.open_autotask"), url=card.link))
        return _dump(AdaptiveCard(version=VERSION, body=body, actions=actions or None))
    body += _groups(card, t)
    if card.state == ATTACHING:
        body.append(text(t("devices.attaching"), subtle=True))
        return _dump(AdaptiveCard(version=VERSION, body=body))
    if card.state == SNOOZED and card.until:
        body.append(text(t("devices.snoozed", until=when(card.until, tz)), subtle=True))
    offer = card.offer_id
    actions = []
    if card.groups:
        if any(g.service_id for g in card.groups):
            actions.append(_execute(t("devices.attach"), Verb.ATTACH, offer, primary=True))
        actions += [_execute(t("devices.review"), Verb.REVIEW, offer),
                    _execute(t("devices.not_managed"), Verb.NOT_MANAGED, offer)]  # fmt: skip
    actions.append(_execute(t("devices.complete"), Verb.COMPLETE, offer))
    if card.state != ATTACHED or card.groups:
        snooze = AdaptiveCard(version=VERSION, body=[], actions=[
            _execute(t("devices.snooze_day"), Verb.SNOOZE_DAY, offer),
            _execute(t("devices.snooze_week"), Verb.SNOOZE_WEEK, offer),
        ])  # fmt: skip
        actions.append(ShowCardAction(title=t("devices.snooze"), card=snooze))
    if card.link:
        actions.append(OpenUrlAction(title=t("slack.open_autotask"), url=card.link))
    return _dump(AdaptiveCard(version=VERSION, body=body, actions=actions))


def summary(card: DeviceCard, t: Translator) -> str:
    """What a notification shows of the card."""
    return _title(card, t)


def reviewed(form: ReviewForm) -> tuple[DeviceLine, ...]:
    """The devices Review gives a choice: those with no suggestion first (they need one)."""
    ordered = sorted(form.devices, key=lambda d: d.service_id is not None)
    return tuple(ordered[:REVIEWED])


def review_card(
    form: ReviewForm,
    t: Translator,
    *,
    chosen: dict[int, str] | None = None,
    issues: dict[int, str] | None = None,
    problem: str | None = None,
    preview: AttachPreview | None = None,
) -> dict[str, Any]:
    """Review: one choice per device, its suggestion (or what the person chose) selected; the
    problems of a refused submit under their devices, and the units an attach would change."""
    chosen, issues = chosen or {}, issues or {}
    body: list[CardElement] = [
        text(t("devices.review_title"), heading=True),
        text(t("devices.review_intro", company=form.company_name)),
    ]
    if preview is not None:
        lines = [t("devices.preview_units", service=u.service, before=u.before, after=u.after)
                 for u in preview.units]  # fmt: skip
        lines += [t("devices.preview_fixed", service=s) for s in preview.fixed_units]
        body += [text(line, subtle=True) for line in lines]
    if problem:
        body.append(_warning(problem))
    choices = [Choice(title=s.name, value=str(s.service_id)) for s in form.services]
    choices.append(Choice(title=t("devices.skip"), value=SKIP))
    shown = reviewed(form)
    for device in shown:
        value = chosen.get(device.device_id, str(device.service_id or ""))
        label = f"{device.name} ({device.kind})" if device.kind else device.name
        body.append(ChoiceSetInput(id=f"{DEVICE}{device.device_id}", label=label, style="compact",
                                   value=value or None, choices=choices))  # fmt: skip
        if device.device_id in issues:
            body.append(_warning(t(issues[device.device_id])))
    if len(form.devices) > len(shown):
        body.append(text(t("devices.review_hidden", n=len(form.devices) - len(shown)),
                         subtle=True))  # fmt: skip
    actions: list[Action] = [
        _execute(t("devices.review_submit"), Verb.REVIEW_SUBMIT, form.offer_id, primary=True),
        _execute(t("devices.review_back"), Verb.REVIEW_BACK, form.offer_id),
    ]
    return _dump(AdaptiveCard(version=VERSION, body=body, actions=actions))


def snoozed_until(moment: datetime, tz: str | None, t: Translator) -> str:
    return t("devices.snoozed", until=when(moment, tz))
