"""Steps shared by several listeners: loading a page's option lists, showing a view within the
ack budget, and running an onboarding with a live progress message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.messages import ProgressMessage, send_passwords
from handlers.slack.metadata import ViewMeta
from handlers.slack.text import escape
from handlers.slack.views import EXTERNAL_SOURCES, Lists, error_notices, page_view
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding import form
from services.onboarding.form import Kind
from services.onboarding.options import Option
from services.onboarding.request import Issue, issues_by_question
from services.onboarding.runner import AlreadyRunningError, StepView
from services.store import repositories as repo
from services.store.tables import Draft, Onboarding

logger = logging.getLogger(__name__)
Ack = Callable[..., Awaitable[Any]]


async def lists_for(deps: SlackDeps, page_id: str, answers: Mapping[str, Any]) -> Lists:
    """Every option list the page shows whole, plus the lists that label answered external selects."""
    sources: set[str] = set()
    for q in form.page(page_id).questions:
        for item in (q, *q.fields):
            if item.source and (item.source not in EXTERNAL_SOURCES or answers.get(q.id)):
                sources.add(item.source)
        if q.kind in (Kind.QUANTITIES, Kind.ASSIGNMENTS):
            sources.add("services")
    loaded = await asyncio.gather(*(deps.options.options(s, answers) for s in sorted(sources)))
    return dict(zip(sorted(sources), loaded, strict=True))


async def page(
    deps: SlackDeps,
    page_id: str,
    answers: Mapping[str, Any],
    t: Translator,
    meta: ViewMeta,
    notices: list[str] | None = None,
) -> View:
    return page_view(
        page_id, answers, await lists_for(deps, page_id, answers), t, meta, notices or []
    )


async def show(
    ack: Ack,
    client: AsyncWebClient,
    view_id: str,
    make: Awaitable[View],
    loading: View,
    budget: float,
) -> None:
    """Answer a submission with the next view if it is ready within the budget, else with a
    loading view now and the real one by ``views.update`` when it is."""
    task = asyncio.ensure_future(make)
    try:
        view = await asyncio.wait_for(asyncio.shield(task), budget)
    except TimeoutError:
        await ack(response_action="update", view=loading)
        await client.views_update(view_id=view_id, view=await task)
        return
    await ack(response_action="update", view=view)


def slack_errors(
    issues: list[Issue], t: Translator, block_ids: set[str]
) -> tuple[dict[str, str], list[str]]:
    """Issues as Slack ``errors`` (by block id); those with no block in the view become notices."""
    errors: dict[str, str] = {}
    rest: dict[str, str] = {}
    for qid, message in issues_by_question(issues, t).items():
        target = (
            qid
            if qid in block_ids
            else next((b for b in sorted(block_ids) if b.startswith(qid + ".")), None)
        )
        if target:
            errors.setdefault(target, message)
        else:
            rest[qid] = message
    return errors, error_notices(rest, t)


async def save(
    deps: SlackDeps, meta: ViewMeta, user_id: str, answers: dict[str, Any], page_id: str
) -> None:
    """Save the draft. Runs before acks, so it reads the company name from memory only."""
    company = answers.get("company")
    company_id = company if isinstance(company, int) else None
    name = deps.options.cached_company_name(company_id) if company_id is not None else None
    async with deps.db.transaction() as session:
        await repo.save_draft(
            session, platform="slack", user_id=user_id, answers=answers, page=page_id,
            draft_id=meta.draft_id, company_id=company_id, company_name=name,
        )  # fmt: skip


async def run(
    deps: SlackDeps,
    client: AsyncWebClient,
    *,
    onboarding_id: str,
    user_id: str,
    channel: str | None,
    t: Translator,
    company: str,
    progress: ProgressMessage | None = None,
) -> None:
    """Apply (or retry) an onboarding, keeping its progress message current."""
    report = await deps.runner.report(onboarding_id)
    progress = progress or ProgressMessage(
        client, channel=channel, user=user_id, t=t, company=company, onboarding_id=onboarding_id
    )
    if progress.ts is None:
        stored = await _stored_message(deps, onboarding_id)
        if stored:
            progress.channel, progress.ts = stored
        else:
            await progress.start(report.steps)
            await _remember_message(deps, onboarding_id, progress)
    steps: dict[str, StepView] = {s.key: s for s in report.steps}

    async def on_progress(view: StepView) -> None:
        steps[view.key] = view
        with contextlib.suppress(Exception):  # a failed chat.update must not stop the run
            await progress.update("applying", list(steps.values()))

    try:
        final = await deps.runner.apply(onboarding_id, on_progress=on_progress)
    except AlreadyRunningError:
        return  # a double click or a second replica: the first run keeps the message current
    deps.options.forget_company(final.company_id)
    link = await deps.company_link(final.company_id)
    await progress.finish(final, link)
    await send_passwords(client, user_id, final.secrets, t)
    if final.status == "applied" and final.invoice_missing and deps.reminders is not None:
        await deps.reminders.start(onboarding_id)  # billing administrators hear about it now


async def _stored_message(deps: SlackDeps, onboarding_id: str) -> tuple[str, str] | None:
    async with deps.db.transaction() as session:
        onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
        meta = onboarding.meta if onboarding else {}
    if meta.get("message_channel") and meta.get("message_ts"):
        return str(meta["message_channel"]), str(meta["message_ts"])
    return None


async def _remember_message(deps: SlackDeps, onboarding_id: str, progress: ProgressMessage) -> None:
    async with deps.db.transaction() as session:
        onboarding = await repo.get_onboarding(session, onboarding_id=onboarding_id)
        if onboarding is not None:
            onboarding.meta = {
                **onboarding.meta,
                "message_channel": progress.channel,
                "message_ts": progress.ts,
            }


def autotask_failure(exc: AutotaskError, t: Translator, *, mrkdwn: bool = True) -> str:
    """What happened with Autotask (not reached, busy, or refused with its own words) and what
    the person can do about it, in their language. ``errors.py`` decides which it is."""
    where = " ".join(part for part in (exc.entity, exc.operation) if part) or "API"
    text = t(f"autotask.{exc.failure}", error=exc.said, where=where)
    return escape(text) if mrkdwn else text


def company_matches(options: list[Option], text: str) -> list[Option]:
    """The organizations ``/onboard <text>`` names: the one whose name it is, else every one whose
    name contains it (the same search as the company select's typeahead)."""
    wanted = text.strip().casefold()
    exact = [o for o in options if o.label.casefold() == wanted]
    return exact[:1] or [o for o in options if wanted in o.label.casefold()]


def owns(draft: Draft, user_id: str) -> bool:
    """Whether ``user_id`` may act on ``draft``: any signed payload can name any draft id, so the
    person is checked, not the view."""
    return draft.platform == "slack" and draft.user_id == user_id


async def draft_of(
    deps: SlackDeps, view: Mapping[str, Any], user_id: str
) -> tuple[ViewMeta, Draft | None] | None:
    """The metadata and saved draft behind a modal; ``None`` if the view carries no metadata.

    Raises ``NotYoursError`` when the draft is someone else's."""
    meta = ViewMeta.load(view.get("private_metadata"))
    if meta is None:
        return None
    async with deps.db.transaction() as session:
        draft = await repo.get_draft(session, draft_id=meta.draft_id)
    if draft is not None and not owns(draft, user_id):
        raise NotYoursError(meta.draft_id)
    return meta, draft


class NotYoursError(Exception):
    """Someone acted on another person's draft (a crafted or forwarded payload)."""


def onboarding_line(onboarding: Onboarding, t: Translator) -> str:
    done = sum(1 for s in onboarding.steps if s.state in ("done", "skipped"))
    return t("slack.status_line", company=escape(onboarding.company_name),
             status=t(f"status.{onboarding.status}"), done=done, total=len(onboarding.steps),
             when=onboarding.updated_at.strftime("%Y-%m-%d %H:%M UTC"))  # fmt: skip
