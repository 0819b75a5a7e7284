"""``/onboard [company] | help | status [company] | list``."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import flow
from handlers.slack.deps import SlackDeps, SlackUser
from handlers.slack.ids import COMMAND
from handlers.slack.metadata import ViewMeta
from handlers.slack.text import escape
from handlers.slack.views import loading_view, message_view, resume_view
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding import form
from services.store import repositories as repo


def register(app: Any, deps: SlackDeps) -> None:
    async def onboard(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        text = (command.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        if word.lower() in ("help", "ayuda"):
            await ack()
            t = Translator((await deps.user(client, command["user_id"])).locale)
            await respond(text=t("slack.help"), response_type="ephemeral")
            return
        if word.lower() in ("status", "estado", "list", "lista"):
            await ack()
            await _status(
                deps,
                client,
                respond,
                command["user_id"],
                rest if word.lower() in ("status", "estado") else None,
                mine=word.lower() in ("list", "lista"),
            )
            return
        await ack()
        # The trigger id lives 3 seconds: open the modal before any other call.
        opened = await client.views_open(
            trigger_id=command["trigger_id"],
            view=loading_view(Translator(deps.known_locale(command["user_id"]))),
        )
        view_id = opened["view"]["id"]
        await start(
            deps,
            client,
            view_id=view_id,
            user_id=command["user_id"],
            channel_id=command.get("channel_id"),
            company_text=text,
        )

    app.command(COMMAND)(onboard)


async def start(
    deps: SlackDeps,
    client: AsyncWebClient,
    *,
    view_id: str,
    user_id: str,
    channel_id: str | None,
    company_text: str = "",
    resume_draft_id: str | None = None,
) -> None:
    """Fill an opened modal: check who asks, offer a saved draft, or show the first page."""
    user = await deps.user(client, user_id)
    t = Translator(user.locale)
    try:
        await _start(deps, client, user, t, view_id=view_id, user_id=user_id, channel_id=channel_id,
                     company_text=company_text, resume_draft_id=resume_draft_id)  # fmt: skip
    except AutotaskError as exc:  # say so in the modal instead of leaving it on "Loading..."
        reason = flow.autotask_failure(exc, t)
        await client.views_update(
            view_id=view_id, view=message_view(t, t("slack.autotask_down", reason=reason))
        )


async def _start(
    deps: SlackDeps,
    client: AsyncWebClient,
    user: SlackUser,
    t: Translator,
    *,
    view_id: str,
    user_id: str,
    channel_id: str | None,
    company_text: str,
    resume_draft_id: str | None,
) -> None:
    person = await deps.may_onboard(client, user)
    if not person.allowed:
        await client.views_update(
            view_id=view_id,
            view=message_view(t, t("slack.not_allowed", email=escape(user.email or "?"))),
        )
        return
    async with deps.db.transaction() as session:
        draft = (
            await repo.get_draft(session, draft_id=resume_draft_id)
            if resume_draft_id
            else await repo.latest_draft(session, platform="slack", user_id=user_id)
        )
    if draft is not None and not flow.owns(draft, user_id):
        await client.views_update(view_id=view_id, view=message_view(t, t("slack.not_your_draft")))
        return
    if draft is not None and (resume_draft_id or not company_text):
        meta = ViewMeta(draft_id=draft.id, channel_id=channel_id, locale=t.locale)
        if resume_draft_id:
            view = await flow.page(deps, draft.page, draft.answers, t, meta)
        else:
            view = resume_view(t, meta, draft.company_name, draft.page)
        await client.views_update(view_id=view_id, view=view)
        return
    answers = form.defaults()
    notices = []
    query = company_text.strip()
    matches = flow.company_matches(await deps.options.companies(), query) if query else []
    if len(matches) == 1:
        answers["company"] = matches[0].value
    elif matches:  # the company select opens on these matches; typing searches every company
        notices.append(t("slack.company_matches", count=len(matches), query=query))
    elif query:
        notices.append(t("console.no_match", query=query))
    async with deps.db.transaction() as session:
        draft = await repo.save_draft(
            session,
            platform="slack",
            user_id=user_id,
            answers=answers,
            page="client",
            company_id=answers.get("company"),
        )
    meta = ViewMeta(
        draft_id=draft.id,
        channel_id=channel_id,
        locale=t.locale,
        company_query=query[:100] if len(matches) > 1 else None,
    )
    await client.views_update(
        view_id=view_id, view=await flow.page(deps, "client", answers, t, meta, notices)
    )


async def _status(
    deps: SlackDeps,
    client: AsyncWebClient,
    respond: AsyncRespond,
    user_id: str,
    company: str | None,
    *,
    mine: bool,
) -> None:
    t = Translator((await deps.user(client, user_id)).locale)
    async with deps.db.transaction() as session:
        onboardings = await repo.list_onboardings(
            session, requested_by=user_id if mine else None, limit=50
        )
        drafts = await repo.list_drafts(session, platform="slack", user_id=user_id) if mine else []
    if company:
        wanted = company.strip().casefold()
        onboardings = [o for o in onboardings if wanted in o.company_name.casefold()]
    lines = [flow.onboarding_line(o, t) for o in onboardings[:20]]
    for d in drafts:
        lines.append(
            t("slack.draft_line", company=escape(d.company_name or "?"), page=t(f"page.{d.page}"))
        )
    await respond(text="\n".join(lines) or t("slack.status_none"), response_type="ephemeral")
