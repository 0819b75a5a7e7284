"""Modal submissions: a form page (validate, save, next page), and the review (apply)."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import flow
from handlers.slack.deps import SlackDeps
from handlers.slack.ids import Callback
from handlers.slack.metadata import ViewMeta
from handlers.slack.state import parse_page
from handlers.slack.text import cut
from handlers.slack.views import error_notices, loading_view, message_view, review_view
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding import form
from services.onboarding.request import issues_by_question
from services.store import repositories as repo
from services.store.tables import Draft


def register(app: Any, deps: SlackDeps) -> None:
    async def page_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user_id = body["user"]["id"]
        found = await _submitted(deps, ack, client, view, user_id)
        if found is None:
            return
        meta, draft = found
        t = Translator(meta.locale)
        if draft is None:
            await ack(response_action="update", view=message_view(t, t("slack.draft_gone")))
            return
        answers = parse_page(draft.page, view["state"]["values"], draft.answers)
        await flow.save(
            deps, meta, user_id, answers, draft.page
        )  # nothing typed is lost, even if invalid

        check = asyncio.ensure_future(deps.runner.check_page(answers, draft.page))
        acked = False
        try:
            try:
                issues = await asyncio.wait_for(asyncio.shield(check), deps.ack_budget)
            except TimeoutError:  # Autotask is slow: answer Slack now, finish in the background
                await ack(response_action="update", view=loading_view(t, "slack.checking", meta))
                acked = True
                issues = await check
        except AutotaskError as exc:
            reason = flow.autotask_failure(exc, t)
            shown = message_view(t, t("slack.autotask_down", reason=reason))
            first_block = next(iter(view["state"]["values"]), None)
            if acked:  # the answers are saved in the draft: /onboard resumes them
                await client.views_update(view_id=view["id"], view=shown)
            elif first_block:  # keep the modal and everything typed in it: submitting again retries
                plain = flow.autotask_failure(exc, t, mrkdwn=False)  # errors are not mrkdwn
                message = t("slack.autotask_down", reason=plain)
                await ack(response_action="errors", errors={first_block: cut(message, 500)})
            else:
                await ack(response_action="update", view=shown)
            return
        if issues:
            block_ids = set(view["state"]["values"])
            errors, notices = flow.slack_errors(issues, t, block_ids)
            if not acked and errors and not notices:
                await ack(response_action="errors", errors=errors)
                return
            notices += error_notices(errors, t)
            again = await flow.page(deps, draft.page, answers, t, meta, notices)
            if acked:
                await client.views_update(view_id=view["id"], view=again)
            else:
                await ack(response_action="update", view=again)
            return

        next_page = form.next_page(draft.page, answers)
        await flow.save(deps, meta, user_id, answers, next_page or draft.page)
        make = (
            flow.page(deps, next_page, answers, t, meta)
            if next_page
            else _review(deps, answers, t, meta)
        )
        loading = loading_view(t, "slack.planning" if next_page is None else "slack.loading", meta)
        if acked:
            await client.views_update(view_id=view["id"], view=await make)
        else:
            await flow.show(ack, client, view["id"], make, loading, deps.ack_budget)

    async def review_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user_id = body["user"]["id"]
        found = await _submitted(deps, ack, client, view, user_id)
        if found is None:
            return
        meta, draft = found
        t = Translator(meta.locale)
        where = f"<#{meta.channel_id}>" if meta.channel_id else t("slack.your_dm")
        await ack(response_action="update", view=message_view(t, t("slack.started", where=where)))
        if draft is None:
            return  # applied already (a second click on Apply) or deleted
        async with deps.db.transaction() as session:
            claimed = await repo.claim_draft(session, draft_id=draft.id)
        if not claimed:
            return  # a second click on Apply: the first one is already running
        user = await deps.user(client, user_id)
        try:
            person = await deps.directory.person(user.email)
            onboarding_id, preview = await deps.runner.submit(
                draft.answers,
                platform="slack",
                requested_by=user_id,
                requester_resource_id=person.resource_id,
                draft_id=draft.id,
                meta={"channel": meta.channel_id},
            )
        except AutotaskError as exc:  # nothing was written: keep the draft, say why, let them retry
            await flow.save(
                deps, meta, user_id, dict(draft.answers), draft_page_before_apply(draft.answers)
            )
            reason = flow.autotask_failure(exc, t)
            await client.views_update(
                view_id=view["id"], view=message_view(t, t("slack.read_failed", reason=reason))
            )
            return
        if onboarding_id is None:  # Autotask changed since the review: show what to fix
            first = preview.issues[0].page if preview.issues else "client"
            await flow.save(deps, meta, user_id, dict(draft.answers), first)
            notices = error_notices(dict(issues_by_question(preview.issues, t)), t)
            await client.views_update(
                view_id=view["id"],
                view=await flow.page(deps, first, draft.answers, t, meta, notices),
            )
            return
        async with deps.db.transaction() as session:
            await repo.delete_draft(session, draft_id=draft.id)
        plan = preview.plan
        await flow.run(
            deps,
            client,
            onboarding_id=onboarding_id,
            user_id=user_id,
            channel=meta.channel_id,
            t=t,
            company=plan.company_name if plan else "?",
        )

    async def closed(ack: AsyncAck) -> None:
        await ack()  # the draft stays; the next /onboard offers to resume it

    app.view(Callback.PAGE)(page_submitted)
    app.view(Callback.REVIEW)(review_submitted)
    for callback in Callback:
        app.view_closed(callback)(closed)


async def _submitted(
    deps: SlackDeps, ack: AsyncAck, client: AsyncWebClient, view: dict[str, Any], user_id: str
) -> tuple[ViewMeta, Draft | None] | None:
    """The submitted modal's metadata and draft; ``None`` once acked when there is nothing to
    do (no metadata, or someone else's draft, which is said in the sender's language)."""
    try:
        found = await flow.draft_of(deps, view, user_id)
    except flow.NotYoursError:
        t = Translator((await deps.user(client, user_id)).locale)
        await ack(response_action="update", view=message_view(t, t("slack.not_your_draft")))
        return None
    if found is None:
        await ack()
    return found


async def _review(deps: SlackDeps, answers: dict[str, Any], t: Translator, meta: ViewMeta) -> Any:
    preview = await deps.runner.preview(answers)
    if preview.plan is None:
        first = preview.issues[0].page if preview.issues else "client"
        notices = error_notices(dict(issues_by_question(preview.issues, t)), t)
        return await flow.page(deps, first, answers, t, meta, notices)
    return review_view(preview.plan, t, meta)


def draft_page_before_apply(answers: dict[str, Any]) -> str:
    """The last page of the form, where Review (and so Apply) is offered again."""
    pages = form.visible_pages(answers)
    return pages[-1].id if pages else "client"
