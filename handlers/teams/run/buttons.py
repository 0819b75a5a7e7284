"""Retry and Cancel on a run's progress card (Universal Actions, one route per verb).

Anyone in the conversation can press them: the service decides (the requester or an onboarding
administrator); anyone else gets a refusal in their own language, shown only to them, and
nothing happens to the run. The run updates its own card as it goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext
from microsoft_agents.hosting.core.app.adaptive_card import factory

from handlers.teams import people
from handlers.teams.accepted import OnAccepted, start_within
from handlers.teams.deps import TeamsDeps
from handlers.teams.dialogs import autotask_failure
from handlers.teams.ids import Verb
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import RefusedError


def _onboarding(data: object) -> str | None:
    found = data.get("onboarding") if isinstance(data, dict) else None
    return found if isinstance(found, str) and 0 < len(found) <= 64 else None


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    async def retry(context: TurnContext, state: Any, data: object) -> AdaptiveCardInvokeResponse:
        t = Translator(context.activity.locale)
        onboarding_id = _onboarding(data)
        if onboarding_id is None:
            return factory.message(t("teams.out_of_date"))

        async def retrying(on_accepted: OnAccepted, accepted: Callable[[], bool]) -> str | None:
            """The refusal to answer with; ``None`` once the run went ahead."""
            try:
                actor = await people.actor(context, deps)
                await deps.service.retry(actor, onboarding_id, on_accepted=on_accepted)
            except RefusedError as refused:
                return refused.message(t) if not accepted() else None
            except AutotaskError as exc:  # Autotask could not be read again before a step
                return autotask_failure(exc, t) if not accepted() else None
            return None

        started = await start_within(deps.background, retrying, deps.invoke_budget)
        if started.accepted or started.done:
            return factory.message(started.refusal or t("teams.retrying"))
        return factory.message(t("teams.still_working"))

    async def cancel(context: TurnContext, state: Any, data: object) -> AdaptiveCardInvokeResponse:
        t = Translator(context.activity.locale)
        onboarding_id = _onboarding(data)
        if onboarding_id is None:
            return factory.message(t("teams.out_of_date"))

        async def cancelling() -> str:
            try:
                actor = await people.actor(context, deps)
                stopped = await deps.service.cancel(actor, onboarding_id)
            except RefusedError as refused:
                return refused.message(t)
            except AutotaskError as exc:  # who may act is looked up in Autotask
                return autotask_failure(exc, t)
            return t("teams.cancelling") if stopped else t("teams.already_ended")

        work = deps.background.run(cancelling())
        try:
            said = await asyncio.wait_for(asyncio.shield(work), deps.invoke_budget)
        except TimeoutError:
            said = t("teams.still_working")
        return factory.message(said)

    app.adaptive_card.action_execute(str(Verb.RETRY))(retry)
    app.adaptive_card.action_execute(str(Verb.CANCEL))(cancel)
