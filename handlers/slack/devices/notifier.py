"""Device offers in Slack: the follow-up's ``DeviceNotifier`` (DMs updated in place) and their
blocks: the devices grouped by suggested service, the outcome of an attach, the buttons."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.ids import Action
from handlers.slack.mrkdwn import bold, cut, date, emoji, fallback, literal
from handlers.slack.reminders.notifier import SlackNotifier
from services.devices.cards import (
    ATTACHED,
    ATTACHING,
    DISMISSED,
    ENDED,
    FAILED,
    SNOOZED,
    AttachOutcome,
    DeviceCard,
    DeviceLine,
)
from services.i18n import Translator
from services.reminders.notifier import ChatUser

LISTED = 20  # devices listed per group; the rest are counted (a section holds 3,000 characters)


def _line(d: DeviceLine, t: Translator) -> str:
    kind = f" ({literal(d.kind)})" if d.kind else ""
    return f"• {literal(d.name)}{kind}"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, 3000)))


def outcome_text(outcome: AttachOutcome, t: Translator) -> list[str]:
    lines: list[str] = []
    if outcome.attached:
        names = ", ".join(f"{literal(d.name)} → {literal(d.service)}" for d in outcome.attached)
        lines.append(t("devices.outcome.attached", n=len(outcome.attached), devices=names))
    for u in outcome.units:
        lines.append(t("devices.outcome.units", service=literal(u.service), before=u.before,
                       after=u.after))  # fmt: skip
    for s in outcome.skipped:
        lines.append(t("devices.outcome.skipped", device=literal(s.name),
                       reason=t(f"devices.skip.{s.reason}")))  # fmt: skip
    if outcome.status == "failed":
        lines.append(t("devices.outcome.failed", step=literal(outcome.failed_step or "-"),
                       error=literal(outcome.error or "-")))  # fmt: skip
    return lines


def device_blocks(card: DeviceCard, t: Translator) -> list[Block]:
    company = bold(literal(card.company_name))
    blocks: list[Block] = []
    if card.state == ENDED:
        blocks.append(_section(f"{emoji('checkered_flag')} " + t(
            f"devices.ended.{card.ended or 'complete'}", company=company,
            contract=literal(card.contract_name))))  # fmt: skip
    elif card.state == DISMISSED:
        blocks.append(_section(t("devices.dismissed", company=company)))
    else:
        title = "devices.title_more" if card.outcome else "devices.title"
        blocks.append(_section(t(title, company=company, n=card.device_count,
                                 contract=literal(card.contract_name))))  # fmt: skip
    if card.outcome is not None:
        mark = emoji("white_check_mark" if card.outcome.status == "applied" else "warning")
        blocks.append(_section(f"{mark} " + "\n".join(outcome_text(card.outcome, t))))
        if card.state == FAILED:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("devices.retry"))]))
    if card.state in (ENDED, DISMISSED):
        return blocks
    for group in card.groups:
        head = (t("devices.group", service=literal(group.service)) if group.service_id
                else t("devices.no_suggestion"))  # fmt: skip
        lines = [_line(d, t) for d in group.devices[:LISTED]]
        if len(group.devices) > LISTED:
            lines.append(t("devices.more", n=len(group.devices) - LISTED))
        blocks.append(_section(bold(head) + "\n" + "\n".join(lines)))
    if card.state == ATTACHING:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("devices.attaching"))]))
        return blocks
    if card.state == SNOOZED and card.until:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=t("devices.snoozed", until=date(card.until)))]))  # fmt: skip
    value = str(card.offer_id)
    buttons: list[Any] = []
    if card.groups:
        if any(g.service_id for g in card.groups):
            buttons.append(ButtonElement(text=t("devices.attach"), action_id=Action.DEVICES_ATTACH,
                                         value=value, style="primary"))  # fmt: skip
        buttons += [
            ButtonElement(text=t("devices.review"), action_id=Action.DEVICES_REVIEW, value=value),
            ButtonElement(text=t("devices.not_managed"), action_id=Action.DEVICES_NOT_MANAGED,
                          value=value),
        ]  # fmt: skip
    buttons.append(ButtonElement(text=t("devices.complete"), action_id=Action.DEVICES_COMPLETE,
                                 value=value))  # fmt: skip
    if card.state != ATTACHED or card.groups:
        buttons += [
            ButtonElement(text=t("devices.snooze_day"), action_id=Action.DEVICES_SNOOZE_DAY,
                          value=value),
            ButtonElement(text=t("devices.snooze_week"), action_id=Action.DEVICES_SNOOZE_WEEK,
                          value=value),
        ]  # fmt: skip
    if card.link:
        buttons.append(ButtonElement(text=t("slack.open_autotask"), action_id=Action.OPEN_AUTOTASK,
                                     url=card.link, value=value))  # fmt: skip
    blocks.append(ActionsBlock(elements=buttons))
    return blocks


def device_message(card: DeviceCard, t: Translator) -> dict[str, Any]:
    """``text`` and ``blocks`` of a device DM in its current state, saying the same thing."""
    blocks = device_blocks(card, t)
    return {"text": fallback(blocks), "blocks": [b.to_dict() for b in blocks]}


class SlackDeviceNotifier:
    """The device follow-up's ``DeviceNotifier`` for Slack."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.people = SlackNotifier(client)  # finding people and plain DMs: as the reminders

    async def find_user(self, email: str) -> ChatUser | None:
        return await self.people.find_user(email)

    async def send_devices(self, to: str, card: DeviceCard, locale: str) -> dict[str, Any]:
        return await self.people.post_dm(to, device_message(card, Translator(locale)))

    async def update_devices(self, ref: dict[str, Any], card: DeviceCard, locale: str) -> None:
        await self.people.update_dm(ref, device_message(card, Translator(locale)))

    async def tell(self, to: str, key: str, locale: str | None = None, **params: Any) -> None:
        await self.people.tell(to, key, locale, **params)
