"""App Home: the user's drafts and onboardings, with their step status and what to do next."""

from __future__ import annotations

from collections.abc import Sequence
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
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.flow import onboarding_line
from handlers.slack.ids import Action
from handlers.slack.text import MAX_VIEW_BLOCKS, escape
from services.i18n import Translator
from services.store import repositories as repo
from services.store.tables import Draft, Onboarding


def home_view(
    drafts: Sequence[Draft],
    onboardings: Sequence[Onboarding],
    links: dict[int, str | None],
    t: Translator,
) -> View:
    blocks: list[Block] = [HeaderBlock(text=t("slack.home_title"))]
    blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{t('slack.home_drafts')}*")))
    if not drafts:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("slack.home_none"))]))
    for d in drafts[:10]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{escape(d.company_name or '?')} · {t(f'page.{d.page}')}"
                ),
                accessory=ButtonElement(
                    text=t("slack.resume"), action_id=Action.HOME_RESUME, value=d.id
                ),
            )
        )
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{t('slack.home_onboardings')}*")))
    if not onboardings:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t("slack.home_none"))]))
    for o in onboardings[:15]:
        failed = next((s for s in o.steps if s.state == "failed"), None)
        text = onboarding_line(o, t)
        if failed is not None:
            text += "\n:warning: " + escape(failed.error or "")[:500]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        buttons: list[Any] = []
        if o.status == "failed":
            buttons.append(
                ButtonElement(
                    text=t("slack.retry"), action_id=Action.HOME_RETRY, value=o.id, style="primary"
                )
            )
        if links.get(o.company_id):
            buttons.append(
                ButtonElement(
                    text=t("slack.open_autotask"),
                    action_id=Action.OPEN_AUTOTASK,
                    url=links[o.company_id],
                    value=o.id,
                )
            )
        if buttons:
            blocks.append(ActionsBlock(elements=buttons))
    view = View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])
    view.to_dict()
    return view


def register(app: Any, deps: SlackDeps) -> None:
    async def opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        user_id = event["user"]
        t = Translator((await deps.user(client, user_id)).locale)
        async with deps.db.transaction() as session:
            drafts = await repo.list_drafts(session, platform="slack", user_id=user_id)
            onboardings = await repo.list_onboardings(session, requested_by=user_id)
        links = {o.company_id: await deps.company_link(o.company_id) for o in onboardings}
        await client.views_publish(user_id=user_id, view=home_view(drafts, onboardings, links, t))

    app.event("app_home_opened")(opened)
