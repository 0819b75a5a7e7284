"""One-line summaries of drafts and onboardings, shared by ``/onboard status|list`` and App Home."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ButtonElement, MarkdownTextObject, SectionBlock

from handlers.slack.mrkdwn import bold, cut, date, emoji, literal
from services.i18n import Translator
from services.onboarding.outcomes import DraftSummary, OnboardingSummary


def onboarding_line(o: OnboardingSummary, t: Translator) -> str:
    return t("slack.status_line", company=bold(literal(o.company_name)),
             status=t(f"status.{o.status}"), done=o.done, total=o.total,
             when=date(o.updated_at))  # fmt: skip


def unfinished_blocks(
    found: Sequence[OnboardingSummary], t: Translator, action: str
) -> list[Block]:
    """The person's failed or stranded onboardings, each with Retry or Resume (both retry it)."""
    blocks: list[Block] = []
    for o in found:
        text = onboarding_line(o, t)
        if o.stranded:
            text += f"\n{emoji('arrows_counterclockwise')} {t('slack.unfinished_stranded')}"
        elif o.failed is not None:
            text += f"\n{emoji('warning')} " + literal(o.failed.error or "")[:500]
        label = t("slack.resume") if o.stranded else t("slack.retry")
        button = ButtonElement(text=label, action_id=action, value=o.id, style="primary")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(text, 3000)), accessory=button))
    return blocks


def draft_line(d: DraftSummary, t: Translator) -> str:
    return t("slack.draft_line", company=bold(literal(d.company_name or "?")),
             page=t(f"page.{d.page}"))  # fmt: skip
