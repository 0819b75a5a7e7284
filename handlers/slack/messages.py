"""The progress message of a run: posted where /onboard was typed (or in a DM), updated in place."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.ids import Action
from handlers.slack.text import MAX_MESSAGE_BLOCKS, cut, escape, fallback
from services.i18n import Translator
from services.onboarding.runner import RunReport, StepView
from services.onboarding.steps import PortalSecret

logger = logging.getLogger(__name__)

ICONS = {
    "pending": ":white_circle:",
    "running": ":hourglass_flowing_sand:",
    "done": ":white_check_mark:",
    "skipped": ":heavy_minus_sign:",
    "failed": ":x:",
    "cancelled": ":no_entry_sign:",
}
NOT_THERE = {"not_in_channel", "channel_not_found", "is_archived"}


def progress_blocks(
    *,
    company: str,
    requester: str,
    status: str,
    steps: list[StepView],
    t: Translator,
    onboarding_id: str,
    link: str | None = None,
    error: str | None = None,
) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text=cut(t("slack.progress_title", company=company), 150)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=t(
                        "slack.progress_by", user=f"<@{requester}>", status=t(f"status.{status}")
                    )
                )
            ]
        ),
    ]
    lines = [f"{ICONS.get(s.state, '')} {escape(t(f'step.{s.kind}', **s.params))}" for s in steps]
    chunk: list[str] = []
    for line in lines:  # sections hold 3,000 characters; keep well under the 50-block message limit
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    failed = next((s for s in steps if s.state == "failed"), None)
    if failed is not None:
        text = t(
            "report.failed", step=t(f"step.{failed.kind}", **failed.params), error=failed.error
        )
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=cut(f":warning: {escape(text)}", 3000)))
        )
    buttons: list[Any] = []
    if status == "applying":
        buttons.append(
            ButtonElement(
                text=t("slack.cancel"), action_id=Action.CANCEL, value=onboarding_id, style="danger",
                confirm=ConfirmObject(title=t("slack.cancel"), text=t("slack.cancel_confirm"),
                                      confirm=t("slack.cancel"), deny=t("slack.close")),
            )
        )  # fmt: skip
    if status == "failed":
        buttons.append(
            ButtonElement(
                text=t("slack.retry"), action_id=Action.RETRY, value=onboarding_id, style="primary"
            )
        )
    if link and status in ("applied", "failed"):
        buttons.append(
            ButtonElement(text=t("slack.open_autotask"), action_id=Action.OPEN_AUTOTASK, url=link)
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        raise ValueError(f"a message takes at most {MAX_MESSAGE_BLOCKS} blocks")
    return blocks


class ProgressMessage:
    """One message per run, updated at most once a second while steps finish."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str | None,
        user: str,
        t: Translator,
        company: str,
        onboarding_id: str,
        min_interval: float = 1.0,
    ) -> None:
        self.client, self.channel, self.user, self.t = client, channel, user, t
        self.company, self.onboarding_id, self.min_interval = company, onboarding_id, min_interval
        self.ts: str | None = None
        self._last = 0.0

    def _render(
        self, status: str, steps: list[StepView], link: str | None = None
    ) -> dict[str, Any]:
        """``text`` and ``blocks`` of the message, saying the same thing."""
        blocks = progress_blocks(
            company=self.company,
            requester=self.user,
            status=status,
            steps=steps,
            t=self.t,
            onboarding_id=self.onboarding_id,
            link=link,
        )
        return {"text": fallback(blocks), "blocks": [b.to_dict() for b in blocks]}

    async def start(self, steps: list[StepView]) -> None:
        message = self._render("applying", steps)
        if self.channel:
            try:
                reply = await self.client.chat_postMessage(channel=self.channel, **message)
                self.channel, self.ts = reply["channel"], reply["ts"]
                return
            except SlackApiError as exc:
                if exc.response.get("error") not in NOT_THERE:
                    raise
        dm = await self.client.conversations_open(users=self.user)
        self.channel = dm["channel"]["id"]
        reply = await self.client.chat_postMessage(channel=self.channel, **message)
        self.ts = reply["ts"]

    async def update(
        self, status: str, steps: list[StepView], *, link: str | None = None, force: bool = False
    ) -> None:
        if self.ts is None or self.channel is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        await self.client.chat_update(
            channel=self.channel, ts=self.ts, **self._render(status, steps, link)
        )

    async def finish(self, report: RunReport, link: str | None) -> None:
        await self.update(report.status, report.steps, link=link, force=True)


async def send_passwords(
    client: AsyncWebClient, user: str, secrets: list[PortalSecret], t: Translator
) -> None:
    """Client Portal passwords go to the requester once, in a DM, and nowhere else."""
    if not secrets:
        return
    dm = await client.conversations_open(users=user)
    lines = [
        t(
            "report.portal_password",
            contact=escape(s.contact),
            user=escape(s.user_name),
            password=f"`{s.password}`",
        )
        for s in secrets
    ]
    await client.chat_postMessage(channel=dm["channel"]["id"], text="\n".join(lines))
