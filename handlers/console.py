"""Terminal front-end: the same form as prompts, or answers from a YAML/CSV file.

``onboard-bot onboard`` walks the form page by page (the draft is saved after each page), shows
the plan and asks before applying. ``onboard-bot onboard --answers FILE`` prints each client's plan
(a dry run) unless ``--apply`` is given, then a per-client report. Everything goes through the
onboarding service, as a chat front-end does: the terminal only maps fields to prompts.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import questionary

from services.i18n import Translator
from services.onboarding import form
from services.onboarding.actor import BusyError, RefusedError
from services.onboarding.answers import read_answers_file
from services.onboarding.fields import Field, path_of
from services.onboarding.form import Kind
from services.onboarding.options import Option
from services.onboarding.outcomes import Invalid, PageView, Review
from services.onboarding.plan import Plan
from services.onboarding.presenter import MessageRef, RunView
from services.onboarding.request import Issue
from services.onboarding.runner import RunReport
from services.onboarding.service import OnboardingService
from services.onboarding.steps import PortalSecret

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


def render_review(review: Review, t: Translator) -> str:
    """The plan, after the playbook the answers came from (and what was changed from it)."""
    lines = review.playbook.lines(t) if review.playbook is not None else []
    return "\n".join([*lines, render_plan(review.plan, t)])


def render_report(report: RunReport, t: Translator, secrets: Sequence[PortalSecret] = ()) -> str:
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
    for secret in secrets:
        lines.append(t("report.portal_password", contact=secret.contact, user=secret.user_name,
                       password=secret.password))  # fmt: skip
    return "\n".join(lines)


def render_run(run: RunView, t: Translator) -> str:
    """One line for what a run's progress says now (``RunView.state``), in the terminal."""
    company = run.company_name
    state = run.state
    if state in ("applying", "resumed"):
        step, total = run.position
        current = run.current
        what = t(f"step.{current.kind}", **current.params) if current else ""
        return t(f"run.{state}", company=company, step=step, total=total, what=what)
    if state == "waiting" and run.waiting is not None:
        waiting = run.waiting
        at = waiting.until.astimezone().strftime("%H:%M:%S")
        return t("run.waiting", company=company, reason=t(f"run.reason.{waiting.failure}"),
                 said=waiting.said, at=at)  # fmt: skip
    failed = run.failed
    if state == "failed" and failed is not None:
        line = t("run.failed", company=company, what=t(f"step.{failed.kind}", **failed.params),
                 error=failed.error or "")  # fmt: skip
        return line + "\n" + t("report.retry", command=RESUME_HINT.format(id=run.onboarding_id))
    return t(f"run.{state}", company=company)


class ConsolePresenter:
    """The terminal's run presenter: a line each time what the run's progress says changes
    (given ``echo``), and the one-time passwords of runs the person at this terminal
    requested, kept to print after the report (others' go to their own front-end)."""

    def __init__(
        self, user_id: str, *, echo: Echo | None = None, t: Translator | None = None
    ) -> None:
        self.user_id = user_id
        self.echo, self.t = echo, t or Translator("en")
        self._secrets: dict[str, list[PortalSecret]] = {}
        self._last: dict[str, str] = {}

    async def open(self, run: RunView) -> MessageRef:
        return {"terminal": self.user_id}

    async def update(self, ref: MessageRef, run: RunView) -> None:
        self._show(run)

    async def finish(self, ref: MessageRef, run: RunView) -> None:
        self._last.pop(run.onboarding_id, None)  # the report that follows says how it ended

    async def resumed(self, run: RunView) -> None:
        if self.echo is not None and run.requester.user_id == self.user_id:
            self.echo(self.t("run.resumed_notice", company=run.company_name))

    def _show(self, run: RunView) -> None:
        if self.echo is None:
            return
        if run.state in ("applying", "resumed") and run.current is None:
            return  # between the last step and the end: the report follows
        line = render_run(run, self.t)
        if self._last.get(run.onboarding_id) != line:  # a state or step change, once
            self._last[run.onboarding_id] = line
            self.echo(line)

    async def deliver_secrets(self, run: RunView, secrets: Sequence[PortalSecret]) -> None:
        if run.requester.user_id == self.user_id:
            self._secrets.setdefault(run.onboarding_id, []).extend(secrets)

    def take_secrets(self, onboarding_id: str) -> list[PortalSecret]:
        return self._secrets.pop(onboarding_id, [])


def _issues_text(issues: Sequence[Issue], t: Translator) -> str:
    return "\n".join(f"  - {form.question_label(i.question, t)}: {i.message(t)}" for i in issues)


def _all_issues(outcome: Invalid) -> list[Issue]:
    return [*outcome.issues, *outcome.elsewhere]


async def run_answers_file(
    path: Path,
    *,
    service: OnboardingService,
    presenter: ConsolePresenter,
    apply: bool,
    t: Translator,
    echo: Echo,
) -> int:
    """Dry-run or apply every client in the file; exit code 1 if any client is invalid or failed."""
    actor = service.local_operator(presenter.user_id, t.locale)
    failures = 0
    for n, raw in enumerate(read_answers_file(path), 1):
        client = str(raw.get("company", f"#{n}"))
        answers, issues = await service.resolve_labels(actor, raw)
        if issues:
            echo(t("console.invalid", client=client))
            echo(_issues_text(issues, t))
            failures += 1
            continue
        draft_id = (await service.start(actor, answers=answers)).draft_id
        review = await service.review(actor, draft_id)
        if isinstance(review, Review):
            echo(render_review(review, t))
            if not apply:
                echo(t("console.dry_run"))
                await service.discard(actor, draft_id)
                continue
        outcome = review if isinstance(review, Invalid) else await service.apply(actor, draft_id)
        if isinstance(outcome, Invalid):  # invalid, or Autotask changed since the plan was read
            echo(t("console.invalid", client=client))
            echo(_issues_text(_all_issues(outcome), t))
            await service.discard(actor, draft_id)
            failures += 1
            continue
        echo(render_report(outcome, t, presenter.take_secrets(outcome.onboarding_id)))
        failures += outcome.status != "applied"
        echo("")
    return 1 if failures else 0


async def resume(
    onboarding_id: str,
    *,
    service: OnboardingService,
    presenter: ConsolePresenter,
    t: Translator,
    echo: Echo,
) -> int:
    actor = service.local_operator(presenter.user_id, t.locale)
    try:
        report = await service.retry(actor, onboarding_id)
    except RefusedError as refused:
        echo(f"{onboarding_id}: {refused.message(t)}" if isinstance(refused, BusyError)
             else refused.message(t))  # fmt: skip
        return 1
    echo(render_report(report, t, presenter.take_secrets(onboarding_id)))
    return 0 if report.status == "applied" else 1


class Prompter:
    """Asks the form's fields in a terminal, one page at a time."""

    def __init__(
        self,
        *,
        service: OnboardingService,
        presenter: ConsolePresenter,
        t: Translator,
        echo: Echo,
    ) -> None:
        self.service, self.presenter, self.t, self.echo = service, presenter, t, echo
        self.actor = service.local_operator(presenter.user_id, t.locale)

    async def run(self, *, playbook: str | None = None) -> int:
        """``playbook`` (a title or file name, from ``--playbook``) starts a new draft from it."""
        saved = None if playbook else await self.service.offer(self.actor)
        if (
            saved
            and await questionary.confirm(
                f"{saved.company_name or ''} ({saved.page}) - resume the saved draft?",
                default=True,
            ).ask_async()
        ):
            view = await self.service.resume(self.actor, saved.id)
        elif playbook:
            given, issues = await self.service.resolve_labels(self.actor, {"playbook": playbook})
            if issues:
                self.echo(self.t("console.playbook_flag", error=issues[0].message(self.t)))
                return 1
            view = await self.service.start(self.actor, answers=given)
        else:
            view = await self.service.start(self.actor)
        while True:
            values = await self._ask_page(view)
            outcome = await self.service.save_page(self.actor, view.draft_id, values)
            if isinstance(outcome, PageView):
                view = outcome
                continue
            if isinstance(outcome, Invalid):
                view = await self._fix(outcome)
                continue
            self.echo(render_review(outcome, self.t))
            if not await questionary.confirm(self.t("console.apply"), default=False).ask_async():
                self.echo(self.t("console.dry_run"))
                return 0
            result = await self.service.apply(self.actor, outcome.draft_id)
            if isinstance(result, Invalid):  # Autotask changed since the plan was shown
                view = await self._fix(result)
                continue
            secrets = self.presenter.take_secrets(result.onboarding_id)
            self.echo(render_report(result, self.t, secrets))
            return 0 if result.status == "applied" else 1

    async def _fix(self, outcome: Invalid) -> PageView:
        self.echo(self.t("console.invalid", client=""))
        self.echo(_issues_text(_all_issues(outcome), self.t))
        return await self.service.page(self.actor, outcome.draft_id)

    async def _ask_page(self, view: PageView) -> dict[str, Any]:
        """Every field of the page; answering a dependent one redraws the page, whose new fields
        (units per chosen service, the Client Portal settings...) are then asked too."""
        self.echo(f"\n== {self.t(view.title_key)} ==")
        self._notices(view)
        values: dict[str, Any] = await self._keep_playbook(view)
        skipped: set[str] = set()
        while True:
            pending = [f for f in view.fields if f.path not in values and f.path not in skipped]
            if not pending:
                return values
            field = pending[0]
            if (
                _starts_slot(field)
                and not await questionary.confirm(
                    self.t("console.more_contracts"), default=field.slot == 0
                ).ask_async()
            ):  # no more billing contracts: skip this slot and the ones after it
                skipped |= {f.path for f in view.fields if f.group == field.group
                            and (f.slot or 0) >= (field.slot or 0)}  # fmt: skip
                continue
            values[field.path] = await self._ask(view, field)
            if field.dependent:
                view = await self.service.change(self.actor, view.draft_id, values)
                self._notices(view)

    def _notices(self, view: PageView) -> None:
        for notice in view.notices:
            self.echo(f"  ! {notice.message(self.t)}")

    async def _keep_playbook(self, view: PageView) -> dict[str, Any]:
        """A page the playbook answered is shown once: its answers, then one question to keep
        them all (only the rest is then asked) or go through every field."""
        kept = [f for f in view.fields if f.path in view.from_playbook]
        if not kept:
            return {}
        title = view.playbook.title(self.t) if view.playbook is not None else ""
        self.echo(self.t("console.from_playbook", title=title))
        for field in kept:
            self.echo(f"  {self.t(field.label_key, **field.label_params)}: {_shown(field, self.t)}")
        if not await questionary.confirm(self.t("console.keep_playbook"), default=True).ask_async():
            return {}
        return {f.path: f.value for f in kept}

    async def _ask(self, view: PageView, field: Field) -> Any:
        t = self.t
        label = t(field.label_key, **field.label_params)
        current = field.value
        if field.kind == Kind.TOGGLE:
            return await questionary.confirm(label, default=bool(current)).ask_async()
        if field.kind == Kind.CHOICE:
            choices = [questionary.Choice(t(field.choice_key(c)), c) for c in field.choices]
            return await questionary.select(
                label, choices=choices, default=_find(choices, current)
            ).ask_async()
        if field.kind in (Kind.TEXT, Kind.DATE, Kind.NUMBER):
            shown = "1" if field.kind == Kind.NUMBER and current is None else str(current or "")
            text = await questionary.text(label, default=shown).ask_async()
            return text or None
        options = await self._options(view, field)
        if field.kind == Kind.SELECT:
            # questionary takes a None value to mean "use the title", so "" stands for no answer.
            choices = [questionary.Choice(t("value.none"), ""), *_choices(options)]
            picked = await questionary.select(
                label, choices=choices, default=_find(choices, current)
            ).ask_async()
            return None if picked == "" else picked
        if not options:
            return []
        chosen = set(current or [])
        choices = [questionary.Choice(o.label, o.value, checked=o.value in chosen) for o in options]
        return await questionary.checkbox(label, choices=choices).ask_async() or []

    async def _options(self, view: PageView, field: Field) -> list[Option]:
        if not field.searched:
            return list(field.options)
        query = ""
        if field.kind == Kind.SELECT and field.min_query:  # thousands of companies: search first
            query = await questionary.text(self.t("console.choose_company")).ask_async() or ""
        return await self.service.suggest(self.actor, view.draft_id, field.path, query)


def _shown(field: Field, t: Translator) -> str:
    """A field's value as people read it: labels of chosen options, yes/no, the text."""
    if field.selected:
        return ", ".join(o.label for o in field.selected)
    if field.kind == Kind.CHOICE and field.value is not None:
        return t(field.choice_key(str(field.value)))
    return t.value(field.value)


def _starts_slot(field: Field) -> bool:
    """The first field of one slot of a group (one billing contract)."""
    if field.group is None:
        return False
    return field.path == path_of(field.group, field.slot, form.QUESTIONS[field.group].fields[0].id)


def _choices(options: list[Option]) -> list[questionary.Choice]:
    return [questionary.Choice(o.label, o.value) for o in options]


def _find(choices: list[questionary.Choice], value: Any) -> questionary.Choice | None:
    return next((c for c in choices if c.value == value), None) if value is not None else None


def _user() -> str:
    """Who runs the terminal: the OS account (drafts and onboardings are recorded as theirs)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"


def console_presenter(*, echo: Echo | None = None, t: Translator | None = None) -> ConsolePresenter:
    return ConsolePresenter(_user(), echo=echo, t=t)
