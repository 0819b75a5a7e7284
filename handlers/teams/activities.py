"""Messages and conversation events: "onboard [company]", help, install and uninstall."""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, RouteRank, TurnContext

from handlers.teams import cards, people, references
from handlers.teams.deps import TeamsDeps
from handlers.teams.dialogs import autotask_failure
from handlers.teams.ids import ONBOARD, company_text
from handlers.teams.proactive import card_message
from handlers.teams.run.card import unfinished_card
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import RefusedError

logger = logging.getLogger(__name__)


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    async def remember_first_use(context: TurnContext, state: Any) -> bool:
        """A message or a button press makes its conversation reachable later (stored once a
        process); install and uninstall events are handled by their own routes."""
        activity = context.activity
        turn = activity.channel_id == "msteams" and activity.type in ("message", "invoke")
        if turn and not references.known(activity, deps):
            email = await references.member_email(context, deps)  # while the connector is open
            deps.background.run(references.remember(activity, deps, email=email))
        return True

    async def onboard(context: TurnContext, state: Any) -> None:
        t = Translator(context.activity.locale)
        company = company_text(context.activity.text) or None
        try:
            who, person = await people.onboarder(context, deps)
        except AutotaskError as exc:
            await _send_card(context, cards.notice_card(t, autotask_failure(exc, t)))
            return
        if not person.allowed:
            await _send_card(context, cards.refusal_card(t, who.email))
            return
        await _send_card(context, cards.onboard_card(t, company))
        await _offer_unfinished(context, deps, t)

    async def help_text(context: TurnContext, state: Any) -> None:
        if (context.activity.text or "").strip():  # card submits (no text) are not questions
            await context.send_activity(Translator(context.activity.locale)("teams.help"))

    async def members_added(context: TurnContext, state: Any) -> None:
        if _bot_among(context.activity, context.activity.members_added):
            await references.remember_turn(context, deps, force=True)
            await context.send_activity(Translator(context.activity.locale)("teams.welcome"))

    async def members_removed(context: TurnContext, state: Any) -> None:
        if _bot_among(context.activity, context.activity.members_removed):
            await references.forget(context.activity, deps)

    async def installation(context: TurnContext, state: Any) -> None:
        action = (context.activity.action or "").lower()
        if action.startswith("remove"):
            await references.forget(context.activity, deps)
        elif action.startswith("add"):
            await references.remember_turn(context, deps, force=True)

    app.before_turn(remember_first_use)
    app.message(ONBOARD)(onboard)
    app.message(rank=RouteRank.LAST)(help_text)
    app.conversation_update("membersAdded")(members_added)
    app.conversation_update("membersRemoved")(members_removed)
    app.activity(ActivityTypes.installation_update)(installation)


async def _offer_unfinished(context: TurnContext, deps: TeamsDeps, t: Translator) -> None:
    """After the card that opens the form: the person's own failed or stranded onboardings, with
    Retry or Resume, so none is left stranded unnoticed (as Slack's /onboard does)."""
    try:
        found = await deps.service.unfinished(await people.actor(context, deps))
    except (RefusedError, AutotaskError):
        return  # the card above already says why, or the form will
    if found:
        await _send_card(context, unfinished_card(found, t))


async def _send_card(context: TurnContext, card: dict[str, Any]) -> None:
    summary = _first_text(card)
    await context.send_activity(card_message(card, summary))


def _bot_among(activity: Activity, members: list[Any] | None) -> bool:
    bot = activity.recipient.id if activity.recipient else None
    return bool(bot) and any(m.id == bot for m in members or [])


def _first_text(card: dict[str, Any]) -> str:
    """The card's words as plain text, for notifications (the title is the same on every card)."""
    runs = [
        inline.get("text", "")
        for block in card.get("body", [])
        for inline in block.get("inlines", [])
    ]
    return runs[1] if len(runs) > 1 else (runs[0] if runs else "")
