"""Terminal front-end: the same form as prompts, or answers from a YAML/CSV file.

``onboard-bot onboard`` walks the form page by page (the draft is saved after each page), shows
the plan and asks before applying. ``onboard-bot onboard --answers FILE`` prints each client's plan
(a dry run) unless ``--apply`` is given, then a per-client report.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Any

import questionary

from services.i18n import Translator
from services.onboarding import form
from services.onboarding.answers import read_answers_file, resolve
from services.onboarding.form import Kind, Question
from services.onboarding.options import Option, OptionSources
from services.onboarding.plan import Plan
from services.onboarding.request import Issue
from services.onboarding.runner import (
    AlreadyRunningError,
    Runner,
    RunReport,
    UnknownOnboardingError,
)
from services.store import repositories as repo
from services.store.db import Database

Echo = Callable[[str], None]
RESUME_HINT = "onboard-bot onboard --resume {id}"


def render_plan(plan: Plan, t: Translator) -> str:
    lines = [
        t("plan.title", company=plan.company_name, changes=len(plan.changes), steps=len(plan.steps))
    ]
    for i, step in enumerate(plan.steps, 1):
        lines.append(f"{i:>3}. {step.describe(t)}")
        if not step.changes:
            lines.append(f"       {t('plan.no_change')}")
        for change in step.changes:
            label = t(f"field.{change.field}")
            lines.append(f"       {label}: {t.value(change.before)} -> {t.value(change.after)}")
    if plan.invoice_missing:
        items = ", ".join(t(f"missing.{m}") for m in plan.invoice_missing)
        lines.append(t("plan.invoice_pending", items=items))
    else:
        lines.append(t("plan.invoice_complete"))
    return "\n".join(lines)


def render_report(report: RunReport, t: Translator) -> str:
    lines = [f"{report.company_name}: {t('status.' + report.status)}"]
    for step in report.steps:
        text = t(f"step.{step.kind}", **step.params)
        lines.append(f"  [{t('state.' + step.state)}] {text}")
    failed = report.failed
    if failed is not None:
        lines.append(
            t("report.failed", step=t(f"step.{failed.kind}", **failed.params), error=failed.error)
        )
        lines.append(t("report.retry", command=RESUME_HINT.format(id=report.onboarding_id)))
    elif report.status == "applied":
        done = sum(1 for s in report.steps if s.state == "done")
        skipped = sum(1 for s in report.steps if s.state == "skipped")
        lines.append(t("report.applied", company=report.company_name, done=done, skipped=skipped))
    for secret in report.secrets:
        lines.append(t("report.portal_password", contact=secret.contact, user=secret.user_name,
                       password=secret.password))  # fmt: skip
    return "\n".join(lines)


def _issues_text(issues: list[Issue], t: Translator) -> str:
    return "\n".join(f"  - {form.question_label(i.question, t)}: {i.message(t)}" for i in issues)


async def run_answers_file(
    path: Path, *, runner: Runner, sources: OptionSources, apply: bool, t: Translator, echo: Echo
) -> int:
    """Dry-run or apply every client in the file; exit code 1 if any client is invalid or failed."""
    failures = 0
    for n, raw in enumerate(read_answers_file(path), 1):
        client = str(raw.get("company", f"#{n}"))
        answers, issues = await resolve(raw, sources)
        preview = await runner.preview({**form.defaults(), **answers}) if not issues else None
        issues = issues or (preview.issues if preview else [])
        if issues or preview is None or preview.plan is None:
            echo(t("console.invalid", client=client))
            echo(_issues_text(issues, t))
            failures += 1
            continue
        echo(render_plan(preview.plan, t))
        if not apply:
            echo(t("console.dry_run"))
            continue
        onboarding_id, _ = await runner.submit({**form.defaults(), **answers}, platform="console",
                                               requested_by=_user())  # fmt: skip
        assert onboarding_id is not None
        report = await runner.apply(onboarding_id)
        echo(render_report(report, t))
        failures += report.status != "applied"
        echo("")
    return 1 if failures else 0


async def resume(onboarding_id: str, *, runner: Runner, t: Translator, echo: Echo) -> int:
    try:
        report = await runner.apply(onboarding_id)
    except AlreadyRunningError:
        echo(f"{onboarding_id}: {t('status.applying')}")
        return 1
    except UnknownOnboardingError:
        echo(t("console.unknown_onboarding", id=onboarding_id))
        return 1
    echo(render_report(report, t))
    return 0 if report.status == "applied" else 1


class Prompter:
    """Asks the form's questions in a terminal, one page at a time."""

    def __init__(
        self, *, runner: Runner, sources: OptionSources, db: Database, t: Translator, echo: Echo
    ) -> None:
        self.runner, self.sources, self.db, self.t, self.echo = runner, sources, db, t, echo

    async def run(self) -> int:
        state = form.FormState()
        draft_id = None
        async with self.db.transaction() as session:
            draft = await repo.latest_draft(session, platform="console", user_id=_user())
            if (
                draft
                and await questionary.confirm(
                    f"{draft.company_name or ''} ({draft.page}) - resume the saved draft?",
                    default=True,
                ).ask_async()
            ):
                state = form.FormState(page=draft.page, answers=dict(draft.answers))
                draft_id = draft.id
        page: str | None = state.page
        while page is not None:
            await self._ask_page(form.page(page), state.answers)
            async with self.db.transaction() as session:
                company = state.answers.get("company")
                saved = await repo.save_draft(
                    session, platform="console", user_id=_user(), answers=state.answers, page=page,
                    draft_id=draft_id, company_id=company,
                    company_name=self.sources.cached_company_name(company) if isinstance(company, int) else None,
                )  # fmt: skip
                draft_id = saved.id
            page = form.next_page(page, state.answers)
            if page is None:
                preview = await self.runner.preview(state.answers)
                if preview.issues:
                    self.echo(self.t("console.invalid", client=""))
                    self.echo(_issues_text(preview.issues, self.t))
                    page = preview.issues[0].page
                    continue
                assert preview.plan is not None
                self.echo(render_plan(preview.plan, self.t))
                if not await questionary.confirm(
                    self.t("console.apply"), default=False
                ).ask_async():
                    self.echo(self.t("console.dry_run"))
                    return 0
                onboarding_id, _ = await self.runner.submit(state.answers, platform="console",
                                                            requested_by=_user(), draft_id=draft_id)  # fmt: skip
                assert onboarding_id is not None
                report = await self.runner.apply(onboarding_id)
                self.echo(render_report(report, self.t))
                if report.status == "applied" and draft_id:
                    async with self.db.transaction() as session:
                        await repo.delete_draft(session, draft_id=draft_id)
                return 0 if report.status == "applied" else 1
        return 0

    async def _ask_page(self, page: form.Page, answers: dict[str, Any]) -> None:
        self.echo(f"\n== {self.t(page.title_key)} ==")
        for question in page.questions:
            if question.shown(answers):
                answers[question.id] = await self._ask(question, answers)

    async def _ask(self, q: Question, answers: dict[str, Any]) -> Any:
        t = self.t
        label = t(q.label_key)
        current = answers.get(q.id)
        if q.kind == Kind.TOGGLE:
            return await questionary.confirm(label, default=bool(current)).ask_async()
        if q.kind == Kind.CHOICE:
            choices = [questionary.Choice(t(f"choice.{q.id}.{c}"), c) for c in q.choices]
            return await questionary.select(
                label, choices=choices, default=_find(choices, current)
            ).ask_async()
        if q.kind in (Kind.TEXT, Kind.DATE, Kind.NUMBER):
            text = await questionary.text(label, default=str(current or "")).ask_async()
            return text or None
        if q.kind == Kind.SELECT and q.source:
            query = ""
            if q.source == "companies":
                query = await questionary.text(t("console.choose_company")).ask_async() or ""
            options = await self.sources.options(q.source, answers, query)
            # questionary takes a None value to mean "use the title", so "" stands for no answer.
            choices = [questionary.Choice(t("value.none"), ""), *_choices(options)]
            picked = await questionary.select(
                label, choices=choices, default=_find(choices, current)
            ).ask_async()
            return None if picked == "" else picked
        if q.kind == Kind.MULTI_SELECT and q.source:
            options = await self.sources.options(q.source, answers)
            if not options:
                return []
            chosen = set(current or [])
            choices = [
                questionary.Choice(o.label, o.value, checked=o.value in chosen) for o in options
            ]
            return await questionary.checkbox(label, choices=choices).ask_async() or []
        if q.kind == Kind.QUANTITIES and q.source:
            options = await self.sources.options(q.source, answers)
            picked = await questionary.checkbox(label, choices=_choices(options)).ask_async() or []
            names = {o.value: o.label for o in options}
            out = {}
            for value in picked:
                units = await questionary.text(
                    t("console.units_for", service=names[value]), default="1"
                ).ask_async()
                out[str(value)] = int(units or 0)
            return out
        if q.kind == Kind.ASSIGNMENTS and q.source:
            devices = await self.sources.options(q.source, answers)
            services = await self.sources.options("services", answers)
            names = {str(o.value): o.label for o in services}
            out2: dict[str, list[Any]] = {}
            for service_id in answers.get("services") or {}:
                picked = await questionary.checkbox(
                    t("console.devices_for", service=names.get(str(service_id), service_id)),
                    choices=_choices(devices),
                ).ask_async()
                if picked:
                    out2[str(service_id)] = picked
            return out2
        if q.kind == Kind.GROUP:
            items: list[dict[str, Any]] = []
            while (
                len(items) < q.max_items
                and await questionary.confirm(
                    t("console.more_contracts"), default=not items
                ).ask_async()
            ):
                item: dict[str, Any] = {}
                for sub in q.fields:
                    sub_q = Question(f"{q.id}.{sub.id}", sub.kind, sub.source, sub.required)
                    item[sub.id] = await self._ask(sub_q, answers)
                items.append(item)
            return items
        return current


def _choices(options: list[Option]) -> list[questionary.Choice]:
    return [questionary.Choice(o.label, o.value) for o in options]


def _find(choices: list[questionary.Choice], value: Any) -> questionary.Choice | None:
    return next((c for c in choices if c.value == value), None) if value is not None else None


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"
