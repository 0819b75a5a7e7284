"""The buttons of a device DM: Attach as suggested, Not a managed device, Rollout complete,
Snooze. Each acks at once and does its work after (an attach takes a run); the follow-up checks
who is acting and updates the DM itself; a refusal is told privately, in the clicker's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.devices.who import actor, clicked, refused
from handlers.slack.ids import Action
from services.devices.cards import DeviceActor, DevicesRefusedError
from services.devices.service import DeviceFollowUps

Work = Callable[[DeviceFollowUps, DeviceActor, int], Awaitable[Any]]


def register(app: Any, deps: SlackDeps) -> None:
    def button(work: Work) -> Any:
        async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            offer = clicked(body)
            if deps.devices is None or offer is None:
                return
            try:
                await work(deps.devices, await actor(deps, client, body), offer)
            except DevicesRefusedError as error:
                await refused(deps, client, body, error)

        return listener

    app.action(Action.DEVICES_ATTACH)(button(lambda d, who, offer: d.attach(who, offer)))
    app.action(Action.DEVICES_NOT_MANAGED)(button(lambda d, who, o: d.not_managed(who, o)))
    app.action(Action.DEVICES_COMPLETE)(button(lambda d, who, offer: d.complete(who, offer)))
    app.action(Action.DEVICES_SNOOZE_DAY)(button(lambda d, who, o: d.snooze(who, o, 1)))
    app.action(Action.DEVICES_SNOOZE_WEEK)(button(lambda d, who, o: d.snooze(who, o, 7)))
