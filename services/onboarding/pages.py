"""A form page as a front-end renders it: its fields with their option lists and issues."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from services.onboarding import form
from services.onboarding.fields import Lists, page_fields, sources_for
from services.onboarding.options import MAX_OPTIONS, Option, OptionSources
from services.onboarding.outcomes import Notice, PageView, placed
from services.onboarding.playbooks.provenance import field_marks, provenance
from services.onboarding.request import Issue


async def render_page(
    options: OptionSources,
    draft_id: str,
    page_id: str,
    answers: Mapping[str, Any],
    *,
    issues: Sequence[Issue] = (),
    notices: Sequence[Notice] = (),
    locale: str = "en",
) -> PageView:
    """Loads the lists the page shows (from cache when warm, labels in ``locale`` where they
    have translations), then flattens it."""
    lists = await page_lists(options, page_id, answers, locale)
    fields = page_fields(page_id, answers, lists)
    on_page, elsewhere = placed(list(issues), [f.path for f in fields])
    pages = [p.id for p in form.visible_pages(answers)]
    number = pages.index(page_id) + 1 if page_id in pages else 1
    marks = field_marks(answers) & {f.path for f in fields}
    return PageView(draft_id, page_id, number, len(pages), fields,
                    first=form.previous_page(page_id, answers) is None,
                    last=form.next_page(page_id, answers) is None,
                    issues=on_page, elsewhere=elsewhere, notices=list(notices),
                    playbook=provenance(answers), from_playbook=frozenset(marks))  # fmt: skip


async def page_lists(
    options: OptionSources, page_id: str, answers: Mapping[str, Any], locale: str = "en"
) -> Lists:
    wanted = sorted(sources_for(page_id, answers))
    loaded = await asyncio.gather(*(options.every(s, answers) for s in wanted))
    return {
        s: [o.in_locale(locale) for o in found] for s, found in zip(wanted, loaded, strict=True)
    }


def company_matches(companies: list[Option], text: str) -> list[Option]:
    """The exact name if there is one, else every company whose name contains the text."""
    wanted = text.strip().casefold()
    exact = [o for o in companies if o.label.casefold() == wanted]
    return exact[:1] or [o for o in companies if wanted in o.label.casefold()][:MAX_OPTIONS]
