"""The form's dialog cards as pure functions of what the onboarding service returns.

A page is a ``PageView``: each field becomes one Adaptive Card input whose ``id`` is the field's
path, so ``task/submit`` brings the values back keyed by path (``values.py``) and the service's
issues land on the same ids. An issue is shown under its input (a red text block; the input's
``errorMessage`` says it too), and what the person typed is put back into the inputs, so nothing
typed is lost. Companies, resources and contacts are ``Data.Query`` typeahead: the dataset names
the draft and the field (``typeahead.py`` answers it), the chosen value is a static choice so its
label shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from microsoft_teams.cards import (
    CardElement,
    Choice,
    ChoiceSetInput,
    DateInput,
    NumberInput,
    QueryData,
    RichTextBlock,
    SubmitAction,
    TextInput,
    TextRun,
    ToggleInput,
)

from handlers.teams.cards import card, submit, text
from handlers.teams.ids import Verb, dataset_of
from services.i18n import Translator
from services.onboarding import form
from services.onboarding.fields import Field
from services.onboarding.form import Kind
from services.onboarding.options import Option
from services.onboarding.outcomes import PageView, Review
from services.onboarding.request import Issue

MAX_CHOICES = 100  # a longer list is searched, never sent whole
MAX_STEPS_SHOWN = 60  # a very large plan: the card says how many more (Teams caps a card's size)

Typed = Mapping[str, Any]  # what the person submitted, by field path


def _choice(option: Option) -> Choice:
    return Choice(title=option.label[:200], value=str(option.value))


def attention(message: str) -> RichTextBlock:
    """An error under its input: plain text, in the theme's warning colour."""
    return RichTextBlock(inlines=[TextRun(text=message).with_color("Attention")])


def _label(field: Field, t: Translator) -> str:
    label = t(field.label_key, **field.label_params)
    return f"{label} *" if field.required and field.kind != Kind.TOGGLE else label


def _typed_text(field: Field, typed: Typed) -> str | None:
    """The field's value to show: what was typed (even if it could not be read), else saved."""
    if field.path in typed and isinstance(typed[field.path], str | int | float):
        return str(typed[field.path])
    return None if field.value in (None, "") else str(field.value)


def _input(field: Field, t: Translator, draft_id: str, typed: Typed, error: str | None) -> Any:
    common: dict[str, Any] = {"id": field.path, "label": _label(field, t)}
    if error:
        common["error_message"] = error[:500]
    kind = field.kind
    if kind in (Kind.SELECT, Kind.MULTI_SELECT):
        multi = kind == Kind.MULTI_SELECT
        selected = [str(o.value) for o in field.selected]
        if field.searched:  # thousands of companies: typed for, never listed
            return ChoiceSetInput(
                **common, choices=[_choice(o) for o in field.selected],
                choices_data=QueryData(dataset=dataset_of(draft_id, field.path)),
                value=",".join(selected) or None, is_multi_select=multi or None, style="filtered",
            )  # fmt: skip
        listed = [_choice(o) for o in field.options][:MAX_CHOICES]
        return ChoiceSetInput(**common, choices=listed, value=",".join(selected) or None,
                              is_multi_select=multi or None,
                              style="filtered" if len(listed) > 8 else "compact")  # fmt: skip
    if kind == Kind.CHOICE:
        choices = [Choice(title=t(field.choice_key(c)), value=c) for c in field.choices]
        value = field.value if field.value in field.choices else None
        return ChoiceSetInput(**common, choices=choices, value=value, style="expanded")
    if kind == Kind.TOGGLE:
        return ToggleInput(id=field.path, title=t(field.label_key, **field.label_params),
                           value="true" if field.value else "false", value_on="true",
                           value_off="false", wrap=True,
                           error_message=common.get("error_message"))  # fmt: skip
    if kind == Kind.DATE:
        shown = _typed_text(field, typed)
        return DateInput(**common, value=shown[:10] if shown else None)
    if kind == Kind.NUMBER:
        shown = _typed_text(field, typed)
        try:
            number = float(shown) if shown else None
        except ValueError:
            number = None
        return NumberInput(**common, value=number, min=field.min_value, max=field.max_value)
    help_key = field.help_key if field.help_key and t.has(field.help_key) else None
    return TextInput(**common, value=_typed_text(field, typed), max_length=field.max_length,
                     placeholder=t(help_key)[:200] if help_key else None)  # fmt: skip


def field_elements(
    fields: Sequence[Field], issues: Sequence[Issue], t: Translator, draft_id: str, typed: Typed
) -> list[CardElement]:
    """One input per field, each issue under its own; each slot of a group (a billing
    contract) under its own heading."""
    errors: dict[str, str] = {}
    for issue in issues:
        errors.setdefault(issue.question, issue.message(t))
    elements: list[CardElement] = []
    slot: tuple[str, int] | None = None
    for field in fields:
        if field.group is not None and field.slot is not None and slot != (field.group, field.slot):
            slot = (field.group, field.slot)
            elements.append(text(f"{t(form.QUESTIONS[field.group].label_key)} {field.slot + 1}",
                                 heading=True))  # fmt: skip
        error = errors.get(field.path)
        elements.append(_input(field, t, draft_id, typed, error))
        if error:
            elements.append(attention(error))
    return elements


def page_card(
    view: PageView, t: Translator, typed: Typed | None = None, notices: Sequence[str] = ()
) -> dict[str, Any]:
    """A form page: its title and position, notices (``notices`` after the page's own), the
    inputs, and Back / Update / Next."""
    body: list[CardElement] = [
        text(f"{t(view.title_key)} · {view.number}/{view.total}", heading=True)
    ]
    said = [n.message(t) for n in view.notices]
    said += [f"{form.question_label(i.question, t)}: {i.message(t)}" for i in view.elsewhere]
    said += list(notices)
    body += [attention(s) for s in said]
    body += field_elements(view.fields, view.issues, t, view.draft_id, typed or {})
    actions: list[SubmitAction] = []
    if not view.first:
        actions.append(submit(t("slack.back"), Verb.FORM_BACK, draft=view.draft_id))
    if any(f.dependent for f in view.fields):  # the page changes with these answers: redraw
        actions.append(submit(t("teams.update_page"), Verb.FORM_CHANGE, draft=view.draft_id))
    ahead = t("slack.review") if view.last else t("slack.next")
    actions.append(submit(ahead, Verb.FORM_NEXT, draft=view.draft_id))
    return card(body, actions)


def resume_card(t: Translator, draft_id: str, company: str | None, page: str) -> dict[str, Any]:
    prompt = t("slack.resume_prompt", company=company or "?", page=t(f"page.{page}"))
    return card(
        [text(t("teams.title"), heading=True), text(prompt)],
        [
            submit(t("slack.resume"), Verb.RESUME_DRAFT, draft=draft_id),
            submit(t("slack.start_over"), Verb.NEW_DRAFT, draft=draft_id),
        ],
    )


def review_card(review: Review, t: Translator) -> dict[str, Any]:
    """The plan: each step that changes something with its fields' before -> after, the steps
    with nothing to change in one line, what the invoice still lacks; Back and Apply."""
    plan = review.plan
    body: list[CardElement] = [
        text(t("plan.title", company=plan.company_name, changes=len(plan.changes),
               steps=len(plan.steps)), heading=True),
    ]  # fmt: skip
    if review.playbook is not None:
        body += [text(line, subtle=True) for line in review.playbook.lines(t)]
    for step in plan.changes[:MAX_STEPS_SHOWN]:
        lines = [f"• {t('field.' + c.field)}: {t.value(c.before)} → {t.value(c.after)}"
                 for c in step.changes]  # fmt: skip
        body.append(
            RichTextBlock(
                inlines=[
                    TextRun(text=step.describe(t)).with_weight("Bolder"),
                    TextRun(text="\n" + "\n".join(lines)),
                ]
            )
        )
    hidden = len(plan.changes) - MAX_STEPS_SHOWN
    if hidden > 0:
        body.append(text(t("slack.more_steps", count=hidden), subtle=True))
    unchanged = [s for s in plan.steps if not s.changes]
    if unchanged:
        names = ", ".join(s.describe(t) for s in unchanged)
        body.append(text(f"{t('plan.no_change')}: {names}", subtle=True))
    if plan.invoice_missing:
        items = ", ".join(t(f"missing.{m}") for m in plan.invoice_missing)
        body.append(attention(t("plan.invoice_pending", items=items)))
    return card(
        body,
        [
            submit(t("slack.back"), Verb.REVIEW_BACK, draft=review.draft_id),
            submit(t("slack.apply"), Verb.APPLY, draft=review.draft_id),
        ],
    )


def working_card(t: Translator, key: str, draft_id: str) -> dict[str, Any]:
    """Autotask is slow: the work goes on, and Continue shows its outcome when it is ready
    (without a draft yet, the person presses the card's button again)."""
    if not draft_id:
        return card([text(t("teams.title"), heading=True), text(t(key))])
    return card(
        [text(t("teams.title"), heading=True), text(t(key)), text(t("teams.continue_hint"))],
        [submit(t("teams.continue"), Verb.POLL, draft=draft_id)],
    )
