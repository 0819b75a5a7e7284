"""The Slack ``RunPresenter``: one progress message per run, updated in place.

The message goes to the channel where /onboard was typed (the run's origin), or to a DM with the
requester when the bot is not in that channel. Its reference, ``{channel, ts}``, is stored with
the onboarding by the service, so a retry from anywhere (App Home, another replica, the terminal's
``onboard-bot onboard --resume``) updates the same message. Updates are throttled to one a second
per message; the end of a run is always shown. Passwords go to the requester's DM, never to
whoever pressed a button.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.run.message import passwords_text, progress_message, resumed_text
from services.i18n import Translator
from services.onboarding.presenter import MessageRef, RunView, Throttle
from services.onboarding.steps import PortalSecret

logger = logging.getLogger(__name__)
NOT_THERE = {"not_in_channel", "channel_not_found", "is_archived"}


def legacy_ref(origin: dict[str, Any] | Any) -> MessageRef | None:
    """The message of an onboarding stored before presenters existed: the Slack front-end kept
    it as ``message_channel``/``message_ts`` in the onboarding's meta (now handed over as the
    run's origin), so a retry updates that message instead of posting a second one."""
    channel, ts = origin.get("message_channel"), origin.get("message_ts")
    return {"channel": str(channel), "ts": str(ts)} if channel and ts else None


class SlackPresenter:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.throttle = Throttle(min_interval, clock)

    async def open(self, run: RunView) -> MessageRef:
        old = legacy_ref(run.origin)
        if old is not None:
            return old
        message = progress_message(run)
        channel = run.origin.get("channel")
        if channel:
            try:
                reply: Any = await self.client.chat_postMessage(channel=str(channel), **message)
                return self._opened(reply)
            except SlackApiError as exc:
                if exc.response.get("error") not in NOT_THERE:
                    raise
        reply = await self.client.chat_postMessage(
            channel=await self._dm(run.requester.user_id), **message
        )
        return self._opened(reply)

    def _opened(self, reply: Any) -> MessageRef:
        self.throttle.opened(str(reply["ts"]))
        return {"channel": str(reply["channel"]), "ts": str(reply["ts"])}

    async def update(self, ref: MessageRef, run: RunView) -> None:
        if ref.get("ts"):
            await self.throttle.update(str(ref["ts"]), ref, run, self._show)

    async def finish(self, ref: MessageRef, run: RunView) -> None:
        if ref.get("ts"):
            await self.throttle.finish(str(ref["ts"]), ref, run, self._show)

    async def _show(self, ref: MessageRef, run: RunView) -> None:
        await self.client.chat_update(channel=ref["channel"], ts=ref["ts"], **progress_message(run))

    async def resumed(self, run: RunView) -> None:
        """Only the requester hears that their run continued after an interruption, in a DM."""
        text = resumed_text(run, Translator(run.requester.locale))
        await self.client.chat_postMessage(channel=await self._dm(run.requester.user_id), text=text)

    async def deliver_secrets(self, run: RunView, secrets: Sequence[PortalSecret]) -> None:
        if not secrets:
            return
        text = passwords_text(secrets, Translator(run.requester.locale))
        await self.client.chat_postMessage(channel=await self._dm(run.requester.user_id), text=text)

    async def _dm(self, user_id: str) -> str:
        reply: Any = await self.client.conversations_open(users=user_id)
        return str(reply["channel"]["id"])
