"""The onboarding use cases every front-end calls: the only code that touches drafts and runs.

A front-end translates: it turns its platform's identity into an ``Actor`` (``identify``), its
widget values into raw values keyed by field path, and the outcomes here into its own views. The
service checks the person on every call, keeps every draft saved, plans, applies through the
runner with progress shown by the platform's ``RunPresenter``, and does the after-run work
(forget the company's cached lists, start the invoice reminders) whichever front-end applied.

Drafts: ``offer``, ``start``, ``resume``, ``page``, ``save_page``, ``change``, ``back``,
``suggest``, ``discard``. Runs: ``review``, ``apply``, ``retry``, ``cancel``, ``onboardings``,
``unfinished`` (the person's stranded or failed ones, to offer Resume or Retry), and
``resume_orphans`` (the process's periodic pickup of interrupted runs, no person involved).
Apply reuses the plan its review built when the answers are unchanged and the review is recent
(``plan_ttl``, 60 s): the company's state is then read once from Review to Apply. Resume and retry
always re-read Autotask.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.directory import Directory
from services.i18n import normalize_locale
from services.onboarding import answers as labelled
from services.onboarding import form
from services.onboarding.actor import (
    Actor,
    BusyError,
    DraftGoneError,
    Gate,
    NotAnOnboarderError,
    NotYourDraftError,
    NotYourOnboardingError,
    OnboardingGoneError,
)
from services.onboarding.collect import collect
from services.onboarding.fields import source_of
from services.onboarding.options import Option, OptionSources
from services.onboarding.outcomes import (
    Deadline,
    DraftSummary,
    Invalid,
    Notice,
    OnboardingSummary,
    PageView,
    Review,
    Slow,
    draft_summary,
    invalid,
    onboarding_summary,
)
from services.onboarding.pages import company_matches, render_page
from services.onboarding.playbooks import prefill
from services.onboarding.playbooks.catalog import Playbooks
from services.onboarding.playbooks.prefill import Playbook
from services.onboarding.playbooks.provenance import provenance
from services.onboarding.presenter import Presenters
from services.onboarding.request import Issue
from services.onboarding.reviewed import Reviewed, ReviewedPlans
from services.onboarding.runner import Runner, RunReport
from services.onboarding.runs import InvoiceReminders, Runs, quietly
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import Draft, Onboarding

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=5)  # an Apply that claimed a draft this long ago has died


class OnboardingService:
    def __init__(
        self,
        *,
        runner: Runner,
        options: OptionSources,
        db: Database,
        directory: Directory,
        presenters: Presenters | None = None,
        reminders: InvoiceReminders | None = None,
        playbooks: Playbooks | None = None,
        ack_budget: float = 2.0,
        plan_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        auto_resumes: int = 3,
    ) -> None:
        self.runner, self.options, self.db = runner, options, db
        self.gate = Gate(directory)
        # Who is acting: a chat account (identify), or the person at the terminal.
        self.identify = self.gate.identify
        self.local_operator = self.gate.local_operator
        self.presenters = presenters or Presenters()
        self.runs = Runs(runner=runner, db=db, options=options, presenters=self.presenters,
                         reminders=reminders, max_resumes=auto_resumes)  # fmt: skip
        self.playbooks = playbooks
        self.ack_budget = ack_budget
        self.reviewed = ReviewedPlans(ttl=plan_ttl, clock=clock)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def _authorize(self, actor: Actor) -> Actor:
        return await self.gate.check(actor)

    # ----- drafts -------------------------------------------------------------------------------

    async def offer(self, actor: Actor) -> DraftSummary | None:
        """The person's most recent saved draft, to offer before starting a new one."""
        drafts = await self.drafts(actor)
        return drafts[0] if drafts else None

    async def drafts(self, actor: Actor) -> list[DraftSummary]:
        await self._authorize(actor)
        async with self.db.transaction() as session:
            rows = await repo.list_drafts(session, platform=actor.platform, user_id=actor.user_id)
            return [draft_summary(d) for d in rows if _recovered(d)]

    async def start(
        self, actor: Actor, company_text: str = "", *, answers: Mapping[str, Any] | None = None
    ) -> PageView:
        """A new draft on the first page. ``company_text`` is matched against the companies: no
        match (a notice), exactly one (pre-selected), or several (the company field lists only
        those). ``answers`` pre-fill the draft (an answers file); when they name a ``playbook``,
        its answers come first and ``answers`` override them."""
        actor = await self._authorize(actor)
        given: dict[str, Any] = {**form.defaults(), **(answers or {})}
        notices: list[Notice] = []
        matches: list[Option] = []
        text = company_text.strip()
        if text and given.get("company") is None:
            matches = company_matches(await self.options.companies(), text)
            if len(matches) == 1:
                given["company"] = matches[0].value
            elif not matches:
                notices.append(Notice("form.no_match", {"query": text}))
        if given.get("playbook") and self.playbooks is not None:
            await self.playbooks.ready()
            given, filled = await prefill.first_fill(given, answers or {}, self._playbook,
                                                     self.options, self._today(), _locale(actor))  # fmt: skip
            notices += filled
        company = given.get("company")
        async with self.db.transaction() as session:
            draft = await repo.save_draft(
                session, platform=actor.platform, user_id=actor.user_id, answers=given,
                page=form.PAGES[0].id, company_id=company if isinstance(company, int) else None,
                company_name=self._company_name(company),
            )  # fmt: skip
            draft_id = draft.id
        view = await render_page(self.options, draft_id, form.PAGES[0].id, given, notices=notices,
                                 locale=_locale(actor))  # fmt: skip
        if len(matches) > 1:
            fields = [
                replace(f, options=tuple(matches), searched=False, min_query=0)
                if f.path == "company" else f
                for f in view.fields
            ]  # fmt: skip
            view = replace(view, fields=fields, matches=matches)
        elif matches:
            view = replace(view, matches=matches)
        return view

    async def resume(self, actor: Actor, draft_id: str) -> PageView:
        """The draft's page again; a review kept for it is dropped (its Apply re-reads)."""
        await self._authorize(actor)
        self.reviewed.forget(draft_id)
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            page_id, answers = draft.page, dict(draft.answers)
        return await render_page(self.options, draft_id, page_id, answers, locale=_locale(actor))

    async def page(self, actor: Actor, draft_id: str, *, issues: Sequence[Issue] = ()) -> PageView:
        """The draft's current page, with issues to show (after an ``Invalid`` or a slow check)."""
        await self._authorize(actor)
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            page_id, answers = draft.page, dict(draft.answers)
        return await render_page(self.options, draft_id, page_id, answers, issues=list(issues),
                                 locale=_locale(actor))  # fmt: skip

    async def discard(self, actor: Actor, draft_id: str) -> None:
        await self._authorize(actor)
        self.reviewed.forget(draft_id)
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            await session.delete(draft)

    async def save_page(
        self,
        actor: Actor,
        draft_id: str,
        values: Mapping[str, Any],
        *,
        on_slow: Slow | None = None,
        budget: float | None = None,
    ) -> PageView | Review | Invalid:
        """Save the page's values (even invalid ones: nothing typed is lost), then check them
        against Autotask and move on: the next page, or the review after the last page.

        Within ``budget`` seconds (``ack_budget`` by default: Slack's 3 s less a margin; Teams
        may allow more) the outcome is returned; past it ``on_slow`` is called once and the
        outcome follows when ready. Values that cannot be read are an ``Invalid``
        at once, before any Autotask call."""
        deadline = Deadline(self.ack_budget if budget is None else budget, on_slow)
        actor = await deadline.run(self._authorize(actor), "checking")
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            page_id = draft.page
            collected = collect(page_id, values, draft.answers)
            self._update(draft, collected.answers, page_id)
        answers = collected.answers
        if collected.issues:
            return invalid(draft_id, page_id, answers, collected.issues)
        answers, notices = await deadline.run(self._refill(actor, draft_id, answers), "checking")
        issues = await deadline.run(self.runner.check_page(answers, page_id), "checking")
        if issues:
            return invalid(draft_id, page_id, answers, [collected.on_fields(i) for i in issues])
        following = form.next_page(page_id, answers)
        if following is None:
            return await deadline.run(self._review(draft_id, answers), "planning")
        await self._move(draft_id, following)
        return await deadline.run(
            render_page(self.options, draft_id, following, answers, notices=notices,
                        locale=_locale(actor)),
            "loading",
        )  # fmt: skip

    async def change(self, actor: Actor, draft_id: str, values: Mapping[str, Any]) -> PageView:
        """A question others depend on changed: save, and the same page drawn again for it.
        Choosing a playbook (or another company with one chosen) fills the later answers it
        gives, except those the person answered themselves; the page's notices say so."""
        actor = await self._authorize(actor)
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            page_id, before = draft.page, draft.answers.get("company")
            collected = collect(page_id, values, draft.answers)
            self._update(draft, collected.answers, page_id)
        answers, notices = await self._refill(actor, draft_id, collected.answers)
        if answers.get("company") not in (None, before):
            self._background(self._warm(answers))  # its typeahead then answers from memory
        return await render_page(self.options, draft_id, page_id, answers, issues=collected.issues,
                                 notices=notices, locale=_locale(actor))  # fmt: skip

    async def back(
        self,
        actor: Actor,
        draft_id: str,
        values: Mapping[str, Any] | None = None,
        *,
        from_review: bool = False,
    ) -> PageView:
        """The previous page (keeping what was typed on this one), or from the review the last
        page of the form."""
        actor = await self._authorize(actor)
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            answers = dict(draft.answers)
            if values is not None and not from_review:
                answers = collect(draft.page, values, answers).answers
            target = draft.page if from_review else form.previous_page(draft.page, answers)
            self._update(draft, answers, target or draft.page)
            page_id = draft.page
        answers, notices = await self._refill(actor, draft_id, answers)
        return await render_page(self.options, draft_id, page_id, answers, notices=notices,
                                 locale=_locale(actor))  # fmt: skip

    async def suggest(
        self,
        actor: Actor,
        draft_id: str,
        path: str,
        query: str = "",
        *,
        budget: float | None = None,
    ) -> list[Option]:
        """Typeahead for a searched field. Within ``budget`` it answers from cache or with
        nothing (the list keeps loading for the next keystroke); a refused person gets nothing."""
        source = source_of(path)
        if source is None:
            return []
        try:
            actor = await self._authorize(actor)
            async with self.db.transaction() as session:
                answers = dict((await self._own(session, actor, draft_id)).answers)
        except (NotAnOnboarderError, NotYourDraftError, DraftGoneError, BusyError):
            return []
        load = asyncio.ensure_future(self.options.options(source, answers, query))
        if budget is None:
            return await load
        load.add_done_callback(_log_failure)  # a load that outlives the budget may still fail
        try:
            return await asyncio.wait_for(asyncio.shield(load), budget)
        except TimeoutError:
            return []

    async def resolve_labels(
        self, actor: Actor, raw: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Issue]]:
        """Answers written by people (names, e-mails, labels) as this tenant's ids; a
        ``playbook`` is named by its title (either language) or file name."""
        await self._authorize(actor)
        if raw.get("playbook") and self.playbooks is not None:
            await self.playbooks.ready()
        answers, issues = await labelled.resolve(raw, self.options)
        return answers, [
            Issue(i.loc, "errors.playbook_not_offered", {"name": raw.get("playbook")})
            if i.question == "playbook" else i
            for i in issues
        ]  # fmt: skip

    # ----- review and runs ------------------------------------------------------------------------

    async def review(
        self,
        actor: Actor,
        draft_id: str,
        *,
        on_slow: Slow | None = None,
        budget: float | None = None,
    ) -> Review | Invalid:
        """Validate every answer against Autotask and plan; the plan is kept for Apply. The
        draft moves to the form's last page, where Back from the review returns."""
        deadline = Deadline(self.ack_budget if budget is None else budget, on_slow)
        actor = await deadline.run(self._authorize(actor), "planning")
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            answers = dict(draft.answers)
            pages = form.visible_pages(answers)
            draft.page = pages[-1].id if pages else draft.page
        return await deadline.run(self._review(draft_id, answers), "planning")

    async def apply(
        self,
        actor: Actor,
        draft_id: str,
        *,
        origin: Mapping[str, Any] | None = None,
        on_accepted: Callable[[], Awaitable[None]] | None = None,
    ) -> RunReport | Invalid:
        """Turn the draft into an onboarding and run it, its progress shown by the presenter of
        the actor's platform at ``origin`` (e.g. the channel). A second Apply of the same draft
        while the first is under way is a ``BusyError``. If Autotask changed since the review,
        the draft comes back ``Invalid`` on the page to fix; if Autotask cannot be read, the
        error propagates and the draft is kept.

        ``on_accepted`` is awaited once the person is checked and the draft is claimed, before
        any Autotask call: a chat front-end answers its platform there ("started"), since the
        run itself outlives any deadline; refusals come before it."""
        actor = await self._authorize(actor)
        async with self.db.transaction() as session:
            draft = await self._own(session, actor, draft_id)
            if not await repo.claim_draft(session, draft_id=draft_id):
                raise BusyError()
            answers, page_id = dict(draft.answers), draft.page
        try:
            if on_accepted is not None:
                await on_accepted()
            kept = self.reviewed.take(draft_id, answers)
            if kept is None:
                preview = await self.runner.preview(answers)
                if preview.plan is None or preview.request is None:
                    first = preview.issues[0].page if preview.issues else page_id
                    await self._move(draft_id, first)
                    return invalid(draft_id, first, answers, preview.issues)
                kept = Reviewed(preview.request, preview.plan)
            meta = {"origin": dict(origin or {}), "locale": actor.locale,
                    "requester_email": actor.email}  # fmt: skip
            onboarding_id = await self.runner.store(
                kept.request, kept.plan, platform=actor.platform, requested_by=actor.user_id,
                requester_resource_id=actor.resource_id, draft_id=draft_id, meta=meta,
                consume_draft=True,
            )  # fmt: skip
        except BaseException:
            await self._move(draft_id, page_id)  # nothing was written: Apply may be pressed again
            raise
        return await self.runs.run(onboarding_id, fresh=True)

    async def retry(
        self,
        actor: Actor,
        onboarding_id: str,
        *,
        on_accepted: Callable[[], Awaitable[None]] | None = None,
    ) -> RunReport:
        """Run a failed, cancelled or interrupted onboarding again: Autotask is re-read, done
        steps are never redone, and its progress message is updated in place. Only for its
        requester (or an onboarding administrator). ``on_accepted`` is awaited once the person
        is checked, before the run: a front-end with a deadline answers there."""
        actor = await self._authorize(actor)
        async with self.db.transaction() as session:
            onboarding = await self._requested(session, actor, onboarding_id)
            if onboarding.status == "cancelled":
                onboarding.cancel_requested = False  # Retry means: carry on
            onboarding.pickups = 0  # a person decided: automatic resumes start counting again
        if on_accepted is not None:
            await on_accepted()
        return await self.runs.run(onboarding_id, fresh=False)

    async def cancel(self, actor: Actor, onboarding_id: str) -> bool:
        """Stop a run before its next step; ``False`` when it has already ended."""
        actor = await self._authorize(actor)
        async with self.db.transaction() as session:
            await self._requested(session, actor, onboarding_id)
            return await repo.request_cancel(session, onboarding_id=onboarding_id)

    async def onboardings(
        self, actor: Actor, *, company: str | None = None, mine: bool = False, limit: int = 20
    ) -> list[OnboardingSummary]:
        """Recent onboardings, for people who may onboard: everyone's, or only their own."""
        actor = await self._authorize(actor)
        async with self.db.transaction() as session:
            rows = await repo.list_onboardings(
                session, requested_by=actor.user_id if mine else None, limit=max(limit, 50)
            )
            found = [
                onboarding_summary(o) for o in rows if not mine or o.platform == actor.platform
            ]
        if company:
            wanted = company.strip().casefold()
            found = [o for o in found if wanted in o.company_name.casefold()]
        return found[:limit]

    async def unfinished(self, actor: Actor, *, limit: int = 10) -> list[OnboardingSummary]:
        """The person's own onboardings that need them: failed ones (offer Retry) and stranded
        ones (``summary.stranded``: applying or stored, but no process holds them; offer Resume,
        which is ``retry``), newest first. A run under way in some process is not listed."""
        actor = await self._authorize(actor)
        now = self.runner.clock()
        async with self.db.transaction() as session:
            rows = await repo.unfinished_onboardings(
                session, platform=actor.platform, requested_by=actor.user_id, now=now,
                planned_before=now - self.runner.lease, limit=limit,
            )  # fmt: skip
            return [onboarding_summary(o, now=now) for o in rows]

    async def resume_orphans(self) -> list[str]:
        """Pick up the runs whose process died or was drained (the scheduler calls this at
        start-up and every ``ORPHAN_SWEEP_SECONDS``); returns the ids this process took."""
        return await self.runs.resume_orphans()

    async def company_link(self, company_id: int) -> str | None:
        """The company's page in the Autotask web UI (``None`` when the zone has no web URL)."""
        return await self.runs.company_link(company_id)

    # ----- helpers ------------------------------------------------------------------------------

    async def _own(self, session: AsyncSession, actor: Actor, draft_id: str) -> Draft:
        """The actor's own draft, not in the middle of being applied."""
        draft = await repo.get_draft(session, draft_id=draft_id)
        if draft is None:
            raise DraftGoneError()
        if not actor.owns(draft.platform, draft.user_id):
            raise NotYourDraftError()
        if draft.page == repo.APPLYING and not _recovered(draft):
            raise BusyError()
        return draft

    async def _requested(
        self, session: AsyncSession, actor: Actor, onboarding_id: str
    ) -> Onboarding:
        onboarding = await session.get(Onboarding, onboarding_id)
        if onboarding is None:
            raise OnboardingGoneError(id=onboarding_id)
        email = onboarding.meta.get("requester_email")
        if not (actor.is_admin or actor.owns(onboarding.platform, onboarding.requested_by, email)):
            raise NotYourOnboardingError()
        return onboarding

    def _company_name(self, company: Any) -> str | None:
        """From memory only: drafts are saved before a chat platform is answered."""
        return self.options.cached_company_name(company) if isinstance(company, int) else None

    def _update(self, draft: Draft, answers: dict[str, Any], page_id: str) -> None:
        company = answers.get("company")
        company_id = company if isinstance(company, int) else None
        name = self._company_name(company)
        if name is not None or draft.company_id != company_id:
            draft.company_name = name
        draft.company_id, draft.answers, draft.page = company_id, answers, page_id
        draft.updated_at = datetime.now(UTC)

    async def _move(self, draft_id: str, page_id: str) -> None:
        async with self.db.transaction() as session:
            draft = await repo.get_draft(session, draft_id=draft_id)
            if draft is not None:
                draft.page, draft.updated_at = page_id, datetime.now(UTC)

    async def _review(self, draft_id: str, answers: dict[str, Any]) -> Review | Invalid:
        preview = await self.runner.preview(answers)
        if preview.plan is None or preview.request is None:
            first = preview.issues[0].page if preview.issues else form.PAGES[0].id
            await self._move(draft_id, first)
            return invalid(draft_id, first, answers, preview.issues)
        self.reviewed.keep(draft_id, answers, Reviewed(preview.request, preview.plan))
        return Review(draft_id, preview.plan, provenance(answers))

    def _playbook(self, name: str) -> Playbook | None:
        return self.playbooks.find(name) if self.playbooks is not None else None

    def _today(self) -> date:
        return self.runner.clock().date()

    async def _refill(
        self, actor: Actor, draft_id: str, answers: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Notice]]:
        """After a playbook or company change, the answers the playbook gives, saved."""
        if self.playbooks is None:
            return answers, []
        filled, notices = await prefill.refill(answers, self._playbook, self.options,
                                               self._today(), _locale(actor))  # fmt: skip
        if filled != answers:
            async with self.db.transaction() as session:
                draft = await repo.get_draft(session, draft_id=draft_id)
                if draft is not None:
                    self._update(draft, filled, draft.page)
        return filled, notices

    async def _warm(self, answers: Mapping[str, Any]) -> None:
        for source in ("contacts", "team_members", "devices"):
            await self.options.options(source, answers)
        await self.runner.facts(answers, max_age=60.0)

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        async def logged() -> None:
            await quietly(work, "warm the company's lists")

        task = asyncio.ensure_future(logged())
        self._tasks.add(task)  # keep a reference, or the task may be collected midway
        task.add_done_callback(self._tasks.discard)


def _locale(actor: Actor) -> str:
    return normalize_locale(actor.locale)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("loading options failed", exc_info=task.exception())


def _recovered(draft: Draft) -> bool:
    """A draft claimed by an Apply that died before storing its onboarding goes back to the
    last page (where Apply is offered again); one claimed moments ago is still being applied."""
    if draft.page != repo.APPLYING:
        return True
    if datetime.now(UTC) - draft.updated_at < STALE_CLAIM:
        return False
    pages = form.visible_pages(draft.answers)
    draft.page = pages[-1].id if pages else form.PAGES[0].id
    return True
