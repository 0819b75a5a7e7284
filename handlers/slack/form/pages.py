"""A form page: its submission (save, check, next page or review), Back, the redraw after a
dependent answer, and the Resume / Start over buttons of the offer to resume a saved draft."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.form.opening import fill
from handlers.slack.form.render import issue_notices, page_view, review_view
from handlers.slack.form.reply import Reply
from handlers.slack.ids import Action, Callback
from handlers.slack.metadata import ViewMeta
from handlers.slack.mrkdwn import cut
from handlers.slack.state import block_values
from handlers.slack.views import message_view
from handlers.slack.wording import autotask_failure, refusal
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding import form
from services.onboarding.actor import Actor, RefusedError
from services.onboarding.outcomes import Invalid, PageView, Review

DEPENDENT = [q.id for q in form.QUESTIONS.values() if q.dependent]


def register(app: Any, deps: SlackDeps) -> None:
    async def page_submitted(
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        reply = await Reply.to(deps, ack, body, view, client, context)
        if reply is None:
            return
        user_id, meta, t = body["user"]["id"], reply.meta, reply.t
        values = block_values(view["state"]["values"])
        try:
            actor = await reply.deadline.run(deps.actor(client, user_id), "checking")
            outcome = await deps.service.save_page(
                actor, meta.draft_id, values, budget=reply.left(),
                on_slow=None if reply.acked else reply.slow,
            )  # fmt: skip
        except RefusedError as refused:
            await reply.say(refusal(refused, t))
            return
        except AutotaskError as exc:
            await _autotask_failed(reply, view, exc)
            return
        if isinstance(outcome, Invalid):
            await _invalid(deps, reply, actor, outcome, set(values))
        elif isinstance(outcome, Review):
            await reply.show(review_view(outcome, t, meta))
        else:
            await reply.show(page_view(outcome, t, meta))

    async def back(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        from_review = body["actions"][0].get("value") == "review"
        values = None if from_review else block_values(body["view"]["state"]["values"])

        async def step_back(actor: Actor, meta: ViewMeta) -> PageView:
            return await deps.service.back(actor, meta.draft_id, values, from_review=from_review)

        await _redraw(deps, client, body, step_back)

    async def dependent_changed(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A question others depend on changed: save, and the page drawn again for it (block ids
        stay, so what was typed elsewhere on the page stays too)."""
        await ack()
        values = block_values(body["view"]["state"]["values"])

        async def changed(actor: Actor, meta: ViewMeta) -> PageView:
            return await deps.service.change(actor, meta.draft_id, values)

        await _redraw(deps, client, body, changed)

    async def resume_draft(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        meta = ViewMeta.load(body["view"].get("private_metadata"))
        if meta is not None:
            await fill(deps, client, view_id=body["view"]["id"], user_id=body["user"]["id"],
                       channel_id=meta.channel_id, draft_id=meta.draft_id)  # fmt: skip

    async def new_draft(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        meta = ViewMeta.load(body["view"].get("private_metadata"))
        if meta is None:
            return
        user_id, view_id = body["user"]["id"], body["view"]["id"]
        try:
            await deps.service.discard(await deps.actor(client, user_id), meta.draft_id)
        except RefusedError as refused:
            t = Translator((await deps.user(client, user_id)).locale)
            await client.views_update(view_id=view_id, view=message_view(t, refusal(refused, t)))
            return
        await fill(deps, client, view_id=view_id, user_id=user_id, channel_id=meta.channel_id,
                   fresh=True)  # fmt: skip

    async def closed(ack: AsyncAck) -> None:
        await ack()  # the draft stays; the next /onboard offers to resume it

    app.view(Callback.PAGE)(page_submitted)
    app.action(Action.BACK)(back)
    app.action(re.compile(rf"^({'|'.join(DEPENDENT)})$"))(dependent_changed)
    app.action(Action.RESUME_DRAFT)(resume_draft)
    app.action(Action.NEW_DRAFT)(new_draft)
    for callback in Callback:
        app.view_closed(callback)(closed)


async def _invalid(
    deps: SlackDeps, reply: Reply, actor: Actor, outcome: Invalid, block_ids: set[str]
) -> None:
    """Errors beside the inputs when Slack still waits and every issue has an input here; else
    the page again with the issues at its top (``views.update`` cannot show input errors)."""
    t = reply.t
    beside = [i for i in outcome.issues if i.question in block_ids]
    if not reply.acked and beside and len(beside) == len(outcome.issues) and not outcome.elsewhere:
        errors: dict[str, str] = {}
        for issue in beside:
            errors.setdefault(issue.question, cut(issue.message(t), 500))  # plain text
        await reply.errors(errors)
        return
    issues = [*outcome.issues, *outcome.elsewhere]
    page = await deps.service.page(actor, outcome.draft_id, issues=issues)
    await reply.show(page_view(page, t, reply.meta, issue_notices(page.issues, t)))


async def _autotask_failed(reply: Reply, view: dict[str, Any], exc: AutotaskError) -> None:
    """Autotask failed while checking: keep the modal and everything typed in it (submitting
    again retries) by saying so beside its first input; after a slow ack, in the modal (the
    answers are saved in the draft: /onboard resumes them)."""
    t = reply.t
    first_block = next(iter(view["state"]["values"]), None)
    if not reply.acked and first_block:
        message = t("slack.autotask_down", reason=autotask_failure(exc, t, mrkdwn=False))
        await reply.errors({first_block: cut(message, 500)})
        return
    await reply.say(t("slack.autotask_down", reason=autotask_failure(exc, t)))


Draw = Callable[[Actor, ViewMeta], Awaitable[PageView]]


async def _redraw(
    deps: SlackDeps, client: AsyncWebClient, body: dict[str, Any], draw: Draw
) -> None:
    """Draw the clicked modal again with what ``draw`` (a use case) returns; a refusal or an
    Autotask failure is said in the modal."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    if meta is None:
        return
    user_id = body["user"]["id"]
    t = Translator((await deps.user(client, user_id)).locale)
    try:
        page = await draw(await deps.actor(client, user_id), meta)
        shown = page_view(page, t, meta, issue_notices(page.issues, t))
    except RefusedError as refused:
        shown = message_view(t, refusal(refused, t))
    except AutotaskError as exc:
        shown = message_view(t, t("slack.autotask_down", reason=autotask_failure(exc, t)))
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=shown)
