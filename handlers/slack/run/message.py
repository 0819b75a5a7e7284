"""The progress message of a run, and the one-time passwords DM, as pure functions of data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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

from handlers.slack.ids import Action
from handlers.slack.mrkdwn import (
    MAX_MESSAGE_BLOCKS,
    code,
    cut,
    date,
    emoji,
    fallback,
    literal,
    mention,
)
from services.i18n import Translator
from services.onboarding.presenter import RunView, StepView
from services.onboarding.steps import PortalSecret

ICONS = {
    "pending": "white_circle",
    "running": "hourglass_flowing_sand",
    "done": "white_check_mark",
    "skipped": "heavy_minus_sign",
    "failed": "x",
    "cancelled": "no_entry_sign",
}


def progress_blocks(
    *,
    company: str,
    requester: str,
    status: str,
    steps: list[StepView],
    t: Translator,
    onboarding_id: str,
    link: str | None = None,
    now: str | None = None,
) -> list[Block]:
    """``now`` (mrkdwn): what the run is doing at this moment (``state_line``)."""
    by = t("slack.progress_by", user=mention(requester), status=t(f"status.{status}"))
    blocks: list[Block] = [
        HeaderBlock(text=cut(t("slack.progress_title", company=company), 150)),  # plain text
        ContextBlock(elements=[MarkdownTextObject(text=by)]),
    ]
    if now:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(now, 3000))))
    lines = [f"{emoji(ICONS[s.state]) if s.state in ICONS else ''} "
             f"{literal(t(f'step.{s.kind}', **s.params))}" for s in steps]  # fmt: skip
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
            SectionBlock(
                text=MarkdownTextObject(text=cut(f"{emoji('warning')} {literal(text)}", 3000))
            )
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


def state_line(run: RunView, t: Translator) -> str | None:
    """While a run is under way: applying step k of n, resumed after an interruption, or waiting
    for Autotask (why, in Autotask's words, and when it tries again, in the reader's time zone).
    The end (applied, failed with Retry, cancelled) is said by the status and the steps."""
    state = run.state
    company = literal(run.company_name)
    if state == "waiting" and run.waiting is not None:
        waiting = run.waiting
        return f"{emoji('hourglass_flowing_sand')} " + t(
            "run.waiting", company=company, reason=t(f"run.reason.{waiting.failure}"),
            said=literal(waiting.said), at=date(waiting.until, "{time_secs}"),
        )  # fmt: skip
    if state in ("applying", "resumed"):
        current = run.current
        if current is None:
            return None  # between the last step and the end: the end follows
        step, total = run.position
        what = literal(t(f"step.{current.kind}", **current.params))
        icon = emoji("arrows_counterclockwise" if state == "resumed" else "gear")
        return f"{icon} " + t(f"run.{state}", company=company, step=step, total=total, what=what)
    return None


def progress_message(run: RunView) -> dict[str, Any]:
    """``text`` and ``blocks`` of a run's message, in its requester's language."""
    t = Translator(run.requester.locale)
    blocks = progress_blocks(company=run.company_name, requester=run.requester.user_id,
                             status=run.status, steps=run.steps, t=t,
                             onboarding_id=run.onboarding_id, link=run.link,
                             now=state_line(run, t))  # fmt: skip
    return {"text": fallback(blocks), "blocks": [b.to_dict() for b in blocks]}


def resumed_text(run: RunView, t: Translator) -> str:
    """The requester's private word that their run went on by itself after an interruption."""
    return t("run.resumed_notice", company=literal(run.company_name))


def passwords_text(secrets: Sequence[PortalSecret], t: Translator) -> str:
    """Client Portal passwords as a code span each: no character of them is formatted away."""
    return "\n".join(
        t("report.portal_password", contact=literal(s.contact), user=literal(s.user_name),
          password=code(s.password))
        for s in secrets
    )  # fmt: skip
