"""App Home: published when opened, and its buttons (Resume a draft, Retry an onboarding)."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.form.opening import fill
from handlers.slack.home.view import home_view, message_home
from handlers.slack.ids import Action
from handlers.slack.views import loading_view
from handlers.slack.wording import autotask_failure, refusal
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import RefusedError


async def publish(
    deps: SlackDeps, client: AsyncWebClient, user_id: str, notice: str | None = None
) -> None:
    """The person's App Home: their own drafts and onboardings only."""
    t = Translator((await deps.user(client, user_id)).locale)
    try:
        actor = await deps.actor(client, user_id)
        drafts = await deps.service.drafts(actor)
        onboardings = await deps.service.onboardings(actor, mine=True)
        unfinished = await deps.service.unfinished(actor)
        companies = {o.company_id for o in onboardings}
        links = {c: await deps.service.company_link(c) for c in companies}
        view = home_view(drafts, onboardings, links, t, notice, unfinished)
    except RefusedError as refused:
        view = message_home(t, refusal(refused, t))
    except AutotaskError as exc:
        view = message_home(t, autotask_failure(exc, t))
    await client.views_publish(user_id=user_id, view=view)


def register(app: Any, deps: SlackDeps) -> None:
    async def opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") == "home":
            await publish(deps, client, event["user"])

    async def resume(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        opened = await client.views_open(
            trigger_id=body["trigger_id"], view=loading_view(Translator(deps.known_locale(user_id)))
        )  # the trigger id lives 3 seconds: the modal first
        await fill(deps, client, view_id=opened["view"]["id"], user_id=user_id, channel_id=None,
                   draft_id=body["actions"][0]["value"])  # fmt: skip

    async def retry(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Retry from App Home: the run updates its progress message where it was posted; a
        refusal is said at the top of the clicker's App Home."""
        await ack()
        user_id = body["user"]["id"]
        t = Translator((await deps.user(client, user_id)).locale)
        try:
            await deps.service.retry(await deps.actor(client, user_id), body["actions"][0]["value"])
        except RefusedError as refused:
            await publish(deps, client, user_id, refusal(refused, t))
            return
        except AutotaskError as exc:
            await publish(deps, client, user_id, autotask_failure(exc, t))
            return
        await publish(deps, client, user_id)  # its step counts and buttons as they are now

    app.event("app_home_opened")(opened)
    app.action(Action.HOME_RESUME)(resume)
    app.action(Action.HOME_RETRY)(retry)
