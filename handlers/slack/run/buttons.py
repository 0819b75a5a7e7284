"""Retry and Cancel on a run's progress message. Anyone in the channel can press them: the service
decides (the requester or an onboarding administrator); anyone else is told so privately, in their
own language, and nothing happens to the run."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.ids import Action
from handlers.slack.private import tell_privately
from handlers.slack.wording import autotask_failure, refusal
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import RefusedError


def register(app: Any, deps: SlackDeps) -> None:
    async def retry(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()  # the run updates its own message as it goes
        user_id = body["user"]["id"]
        t = Translator((await deps.user(client, user_id)).locale)
        try:
            actor = await deps.actor(client, user_id)
            await deps.service.retry(actor, body["actions"][0]["value"])
        except RefusedError as refused:
            await tell_privately(client, body, refusal(refused, t))
        except AutotaskError as exc:  # Autotask could not be read again before the first step
            await tell_privately(client, body, autotask_failure(exc, t))

    async def cancel(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()  # the run stops before its next step and updates its message itself
        user_id = body["user"]["id"]
        try:
            await deps.service.cancel(
                await deps.actor(client, user_id), body["actions"][0]["value"]
            )
        except RefusedError as refused:
            t = Translator((await deps.user(client, user_id)).locale)
            await tell_privately(client, body, refusal(refused, t))

    app.action(Action.RETRY)(retry)
    app.action(Action.CANCEL)(cancel)
