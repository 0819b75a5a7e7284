"""The review's submission: Apply. Slack hears "started" as soon as the person is checked and the
draft claimed; the run goes on after it, its progress in the channel (``handlers/slack/run``)."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.form.render import issue_notices, page_view
from handlers.slack.form.reply import Reply
from handlers.slack.ids import Callback
from handlers.slack.mrkdwn import channel
from handlers.slack.views import message_view
from handlers.slack.wording import autotask_failure, refusal
from services.autotask.errors import AutotaskError
from services.onboarding.actor import BusyError, RefusedError
from services.onboarding.outcomes import Invalid


def register(app: Any, deps: SlackDeps) -> None:
    async def review_submitted(
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        reply = await Reply.to(deps, ack, body, view, client, context)
        if reply is None:
            return
        meta, t = reply.meta, reply.t
        where = channel(meta.channel_id) if meta.channel_id else t("slack.your_dm")
        started = message_view(t, t("slack.started", where=where))

        async def accepted() -> None:
            await reply.show(started)

        origin = {"channel": meta.channel_id} if meta.channel_id else {}
        try:
            # Within the ack budget, or Slack hears "checking" and the answer follows.
            actor = await reply.deadline.run(deps.actor(client, body["user"]["id"]), "checking")
            outcome = await reply.deadline.run(
                deps.service.apply(actor, meta.draft_id, origin=origin, on_accepted=accepted),
                "checking",
            )
        except BusyError:  # a second click on Apply: the first one is under way
            if not reply.acked:
                await reply.show(started)
            return
        except RefusedError as refused:
            await reply.say(refusal(refused, t))
            return
        except AutotaskError as exc:  # nothing was written: the draft is kept, Apply again
            await reply.say(t("slack.read_failed", reason=autotask_failure(exc, t)))
            return
        if isinstance(outcome, Invalid):  # Autotask changed since the review: show what to fix
            issues = [*outcome.issues, *outcome.elsewhere]
            page = await deps.service.page(actor, outcome.draft_id, issues=issues)
            await reply.show(page_view(page, t, meta, issue_notices(page.issues, t)))

    app.view(Callback.REVIEW)(review_submitted)
