"""Dialogs (task modules): ``task/fetch`` opens one, ``task/submit`` answers its buttons.

Teams waits 5 seconds for an invoke's answer, so every handler here runs under
``deps.invoke_budget``; slower work goes on in the background and the dialog says to try again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Literal

from microsoft_agents.hosting.core import AgentApplication, RouteRank
from microsoft_agents.hosting.msteams import TeamsAgentExtension, TeamsTurnContext
from microsoft_teams.api.models import (
    Attachment,
    CardTaskModuleTaskInfo,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleRequest,
    TaskModuleResponse,
)

from handlers.teams import cards, people
from handlers.teams.deps import TeamsDeps
from handlers.teams.ids import Verb
from services.autotask.errors import AutotaskError
from services.i18n import Translator

logger = logging.getLogger(__name__)


Size = Literal["small", "medium", "large"]


def dialog(card: dict[str, Any], title: str, *, size: Size = "large") -> TaskModuleResponse:
    """Show ``card`` in the dialog (open it, or replace what it shows)."""
    return TaskModuleResponse(
        task=TaskModuleContinueResponse(
            value=CardTaskModuleTaskInfo(
                title=title,
                height=size,
                width=size,
                card=Attachment(content_type=cards.CONTENT_TYPE, content=card),
            )
        )
    )


def message(text: str) -> TaskModuleResponse:
    """Close the dialog and show ``text`` in a message box."""
    return TaskModuleResponse(task=TaskModuleMessageResponse(value=text))


def closed() -> TaskModuleResponse:
    """Close the dialog without a word."""
    return TaskModuleResponse()


async def within_budget(
    deps: TeamsDeps,
    work: Awaitable[TaskModuleResponse],
    t: Translator,
) -> TaskModuleResponse:
    """``work``'s answer if it comes within the invoke budget; otherwise a dialog saying to try
    again, while ``work`` finishes in the background (it warms the caches the retry will use)."""
    task = deps.background.run(_answer(work))
    try:
        return await asyncio.wait_for(asyncio.shield(task), deps.invoke_budget)
    except TimeoutError:
        logger.warning("Teams invoke took longer than %.1f s; answered 'still working'",
                       deps.invoke_budget)  # fmt: skip
        return dialog(
            cards.notice_card(t, t("teams.still_working")), t("teams.title"), size="small"
        )


async def _answer(work: Awaitable[TaskModuleResponse]) -> TaskModuleResponse:
    return await work


def locale_of(context: TeamsTurnContext) -> Translator:
    return Translator(context.activity.locale)


def register(app: AgentApplication[Any], teams: TeamsAgentExtension[Any], deps: TeamsDeps) -> None:
    async def open_form(
        context: TeamsTurnContext, state: Any, request: TaskModuleRequest
    ) -> TaskModuleResponse:
        t = locale_of(context)
        data = request.data if isinstance(request.data, dict) else {}
        company = str(data.get("company") or "")[:100] or None
        return await within_budget(deps, _open_form(context, deps, t, company), t)

    async def close_form(
        context: TeamsTurnContext, state: Any, request: TaskModuleRequest
    ) -> TaskModuleResponse:
        return closed()

    async def out_of_date(
        context: TeamsTurnContext, state: Any, request: TaskModuleRequest
    ) -> TaskModuleResponse:
        return message(locale_of(context)("teams.out_of_date"))

    teams.task_modules.fetch(str(Verb.OPEN_FORM))(open_form)
    teams.task_modules.submit(str(Verb.CLOSE_FORM))(close_form)
    # A card from an older version of the bot (or a verb we no longer have) still gets an answer.
    teams.task_modules.fetch(rank=RouteRank.LAST)(out_of_date)
    teams.task_modules.submit(rank=RouteRank.LAST)(out_of_date)


async def _open_form(
    context: TeamsTurnContext, deps: TeamsDeps, t: Translator, company: str | None
) -> TaskModuleResponse:
    """Check the person who pressed the button (anyone in a channel can), then the form."""
    title = t("teams.title")
    try:
        who, person = await people.onboarder(context, deps)
    except AutotaskError as exc:
        return dialog(cards.notice_card(t, autotask_failure(exc, t)), title, size="small")
    if not person.allowed:
        return dialog(cards.refusal_card(t, who.email), title, size="small")
    return dialog(cards.form_coming_card(t, company), title)


def autotask_failure(exc: AutotaskError, t: Translator) -> str:
    where = " ".join(part for part in (exc.entity, exc.operation) if part) or "API"
    return t(f"autotask.{exc.failure}", error=exc.said, where=where)
