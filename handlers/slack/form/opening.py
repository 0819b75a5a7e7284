"""Filling a modal that was just opened (``/onboard``, App Home's Resume, Start over): who asks is
checked, a saved draft is offered or resumed, or a new one starts on its first page."""

from __future__ import annotations

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.form.render import page_view, resume_view
from handlers.slack.metadata import ViewMeta
from handlers.slack.views import message_view
from handlers.slack.wording import autotask_failure, refusal
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import Actor, RefusedError


async def fill(
    deps: SlackDeps,
    client: AsyncWebClient,
    *,
    view_id: str,
    user_id: str,
    channel_id: str | None,
    company_text: str = "",
    draft_id: str | None = None,
    fresh: bool = False,
) -> None:
    """Show the form in the modal ``view_id``: the draft ``draft_id``, else (unless ``fresh``
    or a company was typed) an offer to resume the person's saved draft, else a new draft. A
    refusal or an Autotask failure is said in the modal instead of leaving it on "Loading"."""
    t = Translator((await deps.user(client, user_id)).locale)
    try:
        actor = await deps.actor(client, user_id)
        view = await _form(deps, actor, t, channel_id, company_text.strip(), draft_id, fresh)
    except RefusedError as refused:
        view = message_view(t, refusal(refused, t))
    except AutotaskError as exc:
        view = message_view(t, t("slack.autotask_down", reason=autotask_failure(exc, t)))
    await client.views_update(view_id=view_id, view=view)


async def _form(
    deps: SlackDeps,
    actor: Actor,
    t: Translator,
    channel_id: str | None,
    company_text: str,
    draft_id: str | None,
    fresh: bool,
) -> View:
    service = deps.service
    if draft_id is not None:
        meta = ViewMeta(draft_id=draft_id, channel_id=channel_id, locale=t.locale)
        return page_view(await service.resume(actor, draft_id), t, meta)
    if not fresh and not company_text:
        saved = await service.offer(actor)
        if saved is not None:
            meta = ViewMeta(draft_id=saved.id, channel_id=channel_id, locale=t.locale)
            return resume_view(t, meta, saved.company_name, saved.page)
    page = await service.start(actor, company_text)
    listed = company_text[:100] if len(page.matches) > 1 else None  # the select opens on them
    meta = ViewMeta(draft_id=page.draft_id, channel_id=channel_id, locale=t.locale,
                    company_query=listed)  # fmt: skip
    return page_view(page, t, meta)
