"""The App Home tab as a pure function: the person's drafts and onboardings, what to do next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from handlers.slack.ids import Action
from handlers.slack.lines import onboarding_line, unfinished_blocks
from handlers.slack.mrkdwn import MAX_VIEW_BLOCKS, bold, cut, emoji, literal
from services.i18n import Translator
from services.onboarding.outcomes import DraftSummary, OnboardingSummary


def home_view(
    drafts: Sequence[DraftSummary],
    onboardings: Sequence[OnboardingSummary],
    links: Mapping[int, str | None],
    t: Translator,
    notice: str | None = None,
    unfinished: Sequence[OnboardingSummary] = (),
) -> View:
    """``notice`` (mrkdwn, already formatted) says at the top why a click did nothing;
    ``unfinished`` are the person's failed or stranded onboardings, first, with Retry or Resume."""
    blocks: list[Block] = [HeaderBlock(text=t("slack.home_title"))]
    if notice:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=cut(f"{emoji('warning')} {notice}", 3000)))
        )
    if unfinished:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=bold(t("slack.home_unfinished")))))
        blocks += unfinished_blocks(unfinished[:5], t, Action.HOME_RETRY)
        blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=bold(t("slack.home_drafts")))))
    if not drafts:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("slack.home_none"))]))
    for d in drafts[:10]:
        text = f"{literal(d.company_name or '?')} · {t(f'page.{d.page}')}"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=text),
                accessory=ButtonElement(text=t("slack.resume"), action_id=Action.HOME_RESUME,
                                        value=d.id),
            )
        )  # fmt: skip
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=bold(t("slack.home_onboardings")))))
    if not onboardings:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("slack.home_none"))]))
    for o in onboardings[:15]:
        text = onboarding_line(o, t)
        if o.failed is not None:
            text += f"\n{emoji('warning')} " + literal(o.failed.error or "")[:500]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        buttons: list[Any] = []
        if o.status == "failed":
            buttons.append(ButtonElement(text=t("slack.retry"), action_id=Action.HOME_RETRY,
                                         value=o.id, style="primary"))  # fmt: skip
        if links.get(o.company_id):
            buttons.append(ButtonElement(text=t("slack.open_autotask"),
                                         action_id=Action.OPEN_AUTOTASK,
                                         url=links[o.company_id], value=o.id))  # fmt: skip
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    view = View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])
    view.to_dict()
    return view


def message_home(t: Translator, text: str) -> View:
    """The App Home of someone it has nothing for (not allowed to onboard, Autotask down)."""
    blocks: list[Block] = [HeaderBlock(text=t("slack.home_title")),
                           SectionBlock(text=MarkdownTextObject(text=cut(text, 3000)))]  # fmt: skip
    view = View(type="home", blocks=blocks)
    view.to_dict()
    return view
