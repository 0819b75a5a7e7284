"""The onboarding form in a Teams dialog: open it, page through it, review, Apply.

Every handler checks the person who pressed (``people.actor``: the Teams user the connector
vouched for, never a card's data) and calls the onboarding service; the draft id a button
carries only names the draft, which the service refuses to anyone but its owner. Each answer is
the next card of the dialog, or a message that closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from microsoft_agents.hosting.core import AgentApplication
from microsoft_agents.hosting.msteams import TeamsAgentExtension, TeamsTurnContext
from microsoft_teams.api.models import TaskModuleRequest, TaskModuleResponse

from handlers.teams import cards, people
from handlers.teams.deps import TeamsDeps
from handlers.teams.dialogs import autotask_failure, dialog, locale_of, message
from handlers.teams.form.answer import Answers
from handlers.teams.form.render import page_card, resume_card, review_card
from handlers.teams.form.values import draft_of, field_values
from handlers.teams.ids import Verb
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import Actor, BusyError, RefusedError
from services.onboarding.outcomes import Invalid, PageView, Review, Slow

logger = logging.getLogger(__name__)

Handler = Callable[[TeamsTurnContext, Any, TaskModuleRequest], Awaitable[TaskModuleResponse]]


def _data(request: TaskModuleRequest) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


def form_dialog(card: dict[str, Any], t: Translator) -> TaskModuleResponse:
    return dialog(card, t("teams.title"))


def notice(t: Translator, text: str) -> TaskModuleResponse:
    return dialog(cards.notice_card(t, text), t("teams.title"), size="small")


def shown(outcome: PageView | Review, t: Translator) -> TaskModuleResponse:
    if isinstance(outcome, Review):
        return form_dialog(review_card(outcome, t), t)
    return form_dialog(page_card(outcome, t), t)


def register(app: AgentApplication[Any], teams: TeamsAgentExtension[Any], deps: TeamsDeps) -> None:
    answers = Answers(deps)
    service = deps.service

    def guarded(
        draft_needed: bool,
        work: Callable[[TeamsTurnContext, Translator, Actor, str, Mapping[str, Any], Slow],
                       Awaitable[TaskModuleResponse]],
    ) -> Handler:  # fmt: skip
        """A dialog route: the person checked, refusals and Autotask failures said in the
        dialog, and the whole of it within the invoke budget."""

        async def route(
            context: TeamsTurnContext, state: Any, request: TaskModuleRequest
        ) -> TaskModuleResponse:
            t = locale_of(context)
            data = _data(request)
            draft_id = draft_of(data) or ""
            if draft_needed and not draft_id:
                return message(t("teams.out_of_date"))

            async def run(on_slow: Slow) -> TaskModuleResponse:
                try:
                    actor = await people.actor(context, deps)
                    return await work(context, t, actor, draft_id, data, on_slow)
                except RefusedError as refused:
                    return notice(t, refused.message(t))
                except AutotaskError as exc:
                    return notice(t, t("teams.autotask_down", reason=autotask_failure(exc, t)))

            return await answers.within_budget(draft_id or None, t, run)

        return route

    async def open_form(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        """A saved draft is offered first (unless a company was named); else a new draft."""
        if not actor.may_onboard:
            return dialog(cards.refusal_card(t, actor.email), t("teams.title"), size="small")
        company = str(data.get("company") or "")[:100].strip()
        if not company:
            saved = await service.offer(actor)
            if saved is not None:
                return form_dialog(resume_card(t, saved.id, saved.company_name, saved.page), t)
        return form_dialog(page_card(await service.start(actor, company), t), t)

    async def next_page(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        values = field_values(data)
        try:
            outcome = await service.save_page(actor, draft_id, values, on_slow=on_slow,
                                              budget=deps.invoke_budget * 0.8)  # fmt: skip
        except AutotaskError as exc:  # the answers are saved: the same page, Next tries again
            reason = t("teams.autotask_down", reason=autotask_failure(exc, t))
            page = await service.page(actor, draft_id)
            return form_dialog(page_card(page, t, values, [reason]), t)
        if isinstance(outcome, Invalid):
            issues = [*outcome.issues, *outcome.elsewhere]
            page = await service.page(actor, draft_id, issues=issues)
            return form_dialog(page_card(page, t, values), t)
        return shown(outcome, t)

    async def back(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        return shown(await service.back(actor, draft_id, field_values(data)), t)

    async def review_back(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        return shown(await service.back(actor, draft_id, from_review=True), t)

    async def change(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        values = field_values(data)
        return form_dialog(page_card(await service.change(actor, draft_id, values), t, values), t)

    async def resume(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        return shown(await service.resume(actor, draft_id), t)

    async def start_over(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        await service.discard(actor, draft_id)
        return shown(await service.start(actor), t)

    async def apply(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        """The dialog closes saying the run started once the draft is claimed; the run goes on
        in the background, its progress card in this conversation (``handlers/teams/run``)."""
        accepted = asyncio.Event()

        async def on_accepted() -> None:
            accepted.set()

        conversation = context.activity.conversation
        origin = {"conversation": conversation.id} if conversation and conversation.id else {}

        async def applying() -> object:
            """The run's report, or what stopped it before it started (handed back, not
            raised: the dialog says it, and the background runner logs only real failures)."""
            try:
                return await service.apply(actor, draft_id, origin=origin,
                                           on_accepted=on_accepted)  # fmt: skip
            except (RefusedError, AutotaskError) as exc:
                if accepted.is_set():  # nothing was written; "onboard" offers the draft again
                    logger.warning("Teams Apply stopped before its first step (%s); the draft "
                                   "is kept", type(exc).__name__)  # fmt: skip
                return exc

        run = deps.background.run(applying())
        started = message(t("teams.started"))
        waiting = asyncio.ensure_future(accepted.wait())
        try:
            await asyncio.wait({run, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        if accepted.is_set():
            return started
        outcome = run.result()
        if isinstance(outcome, BusyError):  # a second press of Apply: the first is under way
            return started
        if isinstance(outcome, RefusedError):
            return notice(t, outcome.message(t))
        if isinstance(outcome, AutotaskError):
            return notice(t, t("teams.autotask_down", reason=autotask_failure(outcome, t)))
        if isinstance(outcome, Invalid):  # Autotask changed since the review: what to fix
            issues = [*outcome.issues, *outcome.elsewhere]
            return form_dialog(page_card(await service.page(actor, draft_id, issues=issues), t), t)
        return started

    async def poll(
        context: TeamsTurnContext, t: Translator, actor: Actor, draft_id: str,
        data: Mapping[str, Any], on_slow: Slow,
    ) -> TaskModuleResponse:  # fmt: skip
        return shown(await service.page(actor, draft_id), t)  # no outcome kept here

    async def continue_route(
        context: TeamsTurnContext, state: Any, request: TaskModuleRequest
    ) -> TaskModuleResponse:
        draft_id = draft_of(_data(request))
        kept = await answers.outcome(draft_id, locale_of(context)) if draft_id else None
        return kept if kept is not None else await guarded(True, poll)(context, state, request)

    teams.task_modules.fetch(str(Verb.OPEN_FORM))(guarded(False, open_form))
    for verb, work in (
        (Verb.FORM_NEXT, next_page), (Verb.FORM_BACK, back), (Verb.REVIEW_BACK, review_back),
        (Verb.FORM_CHANGE, change), (Verb.RESUME_DRAFT, resume), (Verb.NEW_DRAFT, start_over),
        (Verb.APPLY, apply),
    ):  # fmt: skip
        teams.task_modules.submit(str(verb))(guarded(True, work))
    teams.task_modules.submit(str(Verb.POLL))(continue_route)
