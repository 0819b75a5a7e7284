"""The Teams ``RunPresenter``: one progress card per run, updated in place.

The card goes into the conversation where the dialog was opened (the run's origin), or into the
requester's personal chat with the bot when that conversation is not known. Its reference,
``{conversation, activity}``, is stored with the onboarding by the service, so a Retry, another
replica or the terminal updates the same card. Updates are throttled to one a second per card;
the end of a run is always shown. Client Portal passwords go to the requester's personal chat
only (opened by the bot when there is none yet), never into a channel and never to whoever
pressed a button.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from microsoft_agents.activity import Activity, ActivityTypes

from handlers.teams.cards import notice_card
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
        """Once, to the requester's personal chat with the bot; when there is none yet (the run
        began in a team channel and the app was never opened one to one) it is created first.
        If Teams refuses, the conversation the run began in hears that the passwords could not
        be delivered and what to do, without them."""
        if not secrets:
            return
        t = Translator(run.requester.locale)
        chat = await self._personal(run.requester) or await self._open_personal(run)
        if chat is None:
            await self._undelivered(run, secrets, t)
            return
        await self.sender.send(chat, plain(passwords_text(secrets, t)))

    async def _open_personal(self, run: RunView) -> Conversation | None:
        origin = await self._origin(run)
        if origin is None:
            return None
        try:
            chat = await self.sender.open_personal(origin, run.requester.user_id,
                                                   run.requester.locale)  # fmt: skip
        except Exception as exc:  # Teams refused: the person hears it where the run began
            logger.warning("onboarding %s: Teams would not open a personal chat with the "
                           "requester (%s)", run.onboarding_id, type(exc).__name__)  # fmt: skip
            return None
        await self.conversations.remember(chat)
        return chat

    async def _undelivered(
        self, run: RunView, secrets: Sequence[PortalSecret], t: Translator
    ) -> None:
        logger.warning("onboarding %s: %d Client Portal password(s) not delivered: no personal "
                       "chat with the requester; reset them in Autotask",
                       run.onboarding_id, len(secrets))  # fmt: skip
        origin = await self._origin(run)
        if origin is None:
            return
        contacts = ", ".join(s.contact for s in secrets)
        said = t("teams.passwords_undelivered", company=run.company_name, contacts=contacts)
        card = notice_card(t, said)
        await self.sender.send(origin, card_message(card, said))

    async def _origin(self, run: RunView) -> Conversation | None:
        origin = run.origin.get("conversation")
        if not origin:
            return None
        found = await self.conversations.get(platform=PLATFORM, conversation_id=str(origin))
        return found if found is not None and not found.removed else None

    async def _personal(self, requester: Requester) -> Conversation | None:
        return await self.conversations.personal(platform=PLATFORM, user_id=requester.user_id)
