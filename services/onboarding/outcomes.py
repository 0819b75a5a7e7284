"""What the onboarding service's use cases hand back to a front-end: plain data to render."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from services.i18n import Translator
from services.onboarding.fields import Field, page_fields, place
from services.onboarding.options import Option
from services.onboarding.plan import Plan
from services.onboarding.playbooks.provenance import Provenance
from services.onboarding.presenter import Requester
from services.onboarding.request import Issue
from services.onboarding.runner import StepView
from services.store.tables import Draft, Onboarding

T = TypeVar("T")

# Called once when a use case runs past its budget, with what it is doing ("checking",
# "loading" or "planning"): a chat front-end answers its platform now (a "Checking your
# answers..." view) and shows the outcome when the use case returns.
Slow = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Notice:
    """A message for the top of a page (i18n key and parameters)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, t: Translator) -> str:
        return t(self.key, **self.params)


@dataclass(frozen=True)
class PageView:
    draft_id: str
    page: str
    number: int  # 1-based position among the pages the answers show
    total: int
    fields: list[Field]
    first: bool  # no Back
    last: bool  # its submit leads to the review
    issues: list[Issue] = field(default_factory=list)  # each on the path of one of ``fields``
    elsewhere: list[Issue] = field(default_factory=list)  # no field of this page to sit beside
    notices: list[Notice] = field(default_factory=list)
    matches: list[Option] = field(default_factory=list)  # companies matching the start text
    # The chosen playbook, and the paths of ``fields`` whose value is still its answer (a
    # front-end may mark them "from the playbook")
    playbook: Provenance | None = None
    from_playbook: frozenset[str] = frozenset()

    @property
    def title_key(self) -> str:
        return f"page.{self.page}"


@dataclass(frozen=True)
class Invalid:
    """The answers need fixing; nothing was rendered, so a chat front-end can answer at once with
    errors beside its fields, or ask ``page()`` for the page (the draft is now on it)."""

    draft_id: str
    page: str
    issues: list[Issue]  # on field paths of ``page``
    elsewhere: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class Review:
    draft_id: str
    plan: Plan
    # The playbook the answers came from, which of them still hold its answers and which the
    # person changed; every front-end shows ``playbook.lines(t)`` above the plan.
    playbook: Provenance | None = None


@dataclass(frozen=True)
class DraftSummary:
    id: str
    company_name: str | None
    page: str
    updated_at: datetime


@dataclass(frozen=True)
class OnboardingSummary:
    id: str
    company_id: int
    company_name: str
    status: str
    done: int
    total: int
    updated_at: datetime
    requester: Requester
    failed: StepView | None = None
    stranded: bool = False  # nobody is applying it although it is not finished: offer Resume


class Deadline:
    """One budget for a whole use case: the first phase that outlasts it calls ``on_slow``."""

    def __init__(self, budget: float, on_slow: Slow | None) -> None:
        self.ends = time.monotonic() + budget
        self.on_slow = on_slow
        self.slow = False

    async def run(self, work: Awaitable[T], doing: str) -> T:
        if self.on_slow is None or self.slow:
            return await work
        task = asyncio.ensure_future(work)
        try:
            return await asyncio.wait_for(
                asyncio.shield(task), max(0.0, self.ends - time.monotonic())
            )
        except TimeoutError:
            self.slow = True
            await self.on_slow(doing)
            return await task


def invalid(
    draft_id: str, page_id: str, answers: Mapping[str, Any], issues: list[Issue]
) -> Invalid:
    on_page, elsewhere = placed(issues, [f.path for f in page_fields(page_id, answers)])
    return Invalid(draft_id, page_id, on_page, elsewhere)


def placed(issues: list[Issue], paths: list[str]) -> tuple[list[Issue], list[Issue]]:
    """Issues moved onto the field they are shown beside, and those with no field here."""
    on_page: list[Issue] = []
    elsewhere: list[Issue] = []
    for issue in issues:
        target = place(issue.question, paths)
        if target is None:
            elsewhere.append(issue)
        else:
            on_page.append(replace(issue, loc=tuple(target.split("."))))
    return on_page, elsewhere


def draft_summary(draft: Draft) -> DraftSummary:
    return DraftSummary(draft.id, draft.company_name, draft.page, draft.updated_at)


def onboarding_summary(o: Onboarding, *, now: datetime | None = None) -> OnboardingSummary:
    """``now``: also tell whether it is stranded (applying or stored, with no live lease)."""
    done = sum(1 for s in o.steps if s.state in ("done", "skipped"))
    failed = next((StepView.of(s) for s in o.steps if s.state == "failed"), None)
    requester = Requester(o.platform, o.requested_by, str(o.meta.get("locale") or "en"))
    stranded = (
        now is not None
        and o.status in ("applying", "planned")
        and (o.lease_until is None or o.lease_until < now)
    )
    return OnboardingSummary(o.id, o.company_id, o.company_name, o.status, done, len(o.steps),
                             o.updated_at, requester, failed, stranded)  # fmt: skip
