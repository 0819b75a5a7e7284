"""Dialogs (task modules): ``task/fetch`` opens one, ``task/submit`` answers its buttons.

The shapes of a dialog's answer (a card, a message, closed) and the routes no form owns. Teams
waits 5 seconds for an invoke's answer: ``handlers.teams.form.answer`` keeps every form route
within ``deps.invoke_budget``.
"""

from __future__ import annotations

import logging
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

from handlers.teams import cards
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


def locale_of(context: TeamsTurnContext) -> Translator:
    return Translator(context.activity.locale)


def register(app: AgentApplication[Any], teams: TeamsAgentExtension[Any], deps: TeamsDeps) -> None:
    """Close buttons, and the answer to a card from an older version of the bot (or a verb we no
    longer have); the form's own routes are ``handlers.teams.form``'s."""

    async def close_form(
        context: TeamsTurnContext, state: Any, request: TaskModuleRequest
    ) -> TaskModuleResponse:
        return closed()

    async def out_of_date(
        context: TeamsTurnContext, state: Any, request: TaskModuleRequest
    ) -> TaskModuleResponse:
        return message(locale_of(context)("teams.out_of_date"))

    teams.task_modules.submit(str(Verb.CLOSE_FORM))(close_form)
    teams.task_modules.fetch(rank=RouteRank.LAST)(out_of_date)
    teams.task_modules.submit(rank=RouteRank.LAST)(out_of_date)


def autotask_failure(exc: AutotaskError, t: Translator) -> str:
    where = " ".join(part for part in (exc.entity, exc.operation) if part) or "API"
    return t(f"autotask.{exc.failure}", error=exc.said, where=where)
