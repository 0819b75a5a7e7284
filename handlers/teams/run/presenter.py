"""The Teams ``RunPresenter``: one progress card per run, updated in place.

The card goes into the conversation where the dialog was opened (the run's origin), or into the
requester's personal chat with the bot when that conversation is not known. Its reference,
``{conversation, activity}``, is stored with the onboarding by the service, so a Retry, another
replica or the terminal updates the same card. Updates are throttled to one a second per card;
the end of a run is always shown. Client Portal passwords go to the requester's personal chat
only, never into a channel and never to whoever pressed a button.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from microsoft_agents.activity import Activity, ActivityTypes

from handlers.teams.proactive import TeamsSender, card_message
from handlers.teams.references import PLATFORM
from handlers.teams.run.card import passwords_text, progress_card, summary
from services.conversations import Conversation, Conversations
from services.i18n import Translator
from services.onboarding.presenter import MessageRef, Requester, RunView, Throttle
from services.onboarding.steps import PortalSecret

logger = logging.getLogger(__name__)


def plain(text: str) -> Activity:
    """A text message shown exactly as written (no markdown)."""
    return Activity(type=ActivityTypes.message, text=text, text_format="plain")


class TeamsPresenter:
    def __init__(
        self,
        sender: TeamsSender,
        conversations: Conversations,
        *,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sender, self.conversations = sender, conversations
        self.throttle = Throttle(min_interval, clock)

    async def open(self, run: RunView) -> MessageRef:
        conversation = None
        origin = run.origin.get("conversation")
        if origin:
            conversation = await self.conversations.get(platform=PLATFORM,
                                                        conversation_id=str(origin))  # fmt: skip
        conversation = conversation or await self._personal(run.requester)
        if conversation is None:
            logger.warning("onboarding %s: no Teams conversation to show its progress in",
                           run.onboarding_id)  # fmt: skip
            return {}
        activity_id = await self.sender.send(
            conversation, card_message(progress_card(run), summary(run))
        )
        self.throttle.opened(activity_id)
        return {"conversation": conversation.conversation_id, "activity": activity_id}

    async def update(self, ref: MessageRef, run: RunView) -> None:
        if activity_id := str(ref.get("activity") or ""):
            await self.throttle.update(activity_id, ref, run, self._show)

    async def finish(self, ref: MessageRef, run: RunView) -> None:
        if activity_id := str(ref.get("activity") or ""):
            await self.throttle.finish(activity_id, ref, run, self._show)

    async def _show(self, ref: MessageRef, run: RunView) -> None:
        activity_id = str(ref["activity"])
        conversation = await self.conversations.get(
            platform=PLATFORM, conversation_id=str(ref.get("conversation"))
        )
        if conversation is None:  # the app was removed from there: nothing to update
            return
        await self.sender.update(
            conversation, activity_id, card_message(progress_card(run), summary(run))
        )

    async def resumed(self, run: RunView) -> None:
        t = Translator(run.requester.locale)
        chat = await self._personal(run.requester)
        if chat is not None:
            await self.sender.send(chat, plain(t("run.resumed_notice", company=run.company_name)))

    async def deliver_secrets(self, run: RunView, secrets: Sequence[PortalSecret]) -> None:
        if not secrets:
            return
        chat = await self._personal(run.requester)
        if chat is None:
            logger.warning("onboarding %s: %d Client Portal password(s) not delivered: the "
                           "requester has no personal chat with the bot; reset them in Autotask",
                           run.onboarding_id, len(secrets))  # fmt: skip
            return
        await self.sender.send(
            chat, plain(passwords_text(secrets, Translator(run.requester.locale)))
        )

    async def _personal(self, requester: Requester) -> Conversation | None:
        return await self.conversations.personal(platform=PLATFORM, user_id=requester.user_id)
