"""The form's modals as pure functions of what the onboarding service returns.

A page is a ``PageView``: its fields, each with a path. Every field becomes one input block whose
block id and action id are that path, so view state comes back keyed by path (``state.py``) and
the service's issues land on the same block ids. The path scheme itself is the form's
(``services/onboarding/fields.py``); nothing here builds or parses a path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.slack.ids import Action, Callback
from handlers.slack.metadata import ViewMeta
from handlers.slack.mrkdwn import MAX_CHECKBOXES, MAX_VIEW_BLOCKS, bold, cut, emoji, literal
from handlers.slack.views import modal
from handlers.slack.wording import say
from services.i18n import Translator
from services.onboarding import form
from services.onboarding.fields import Field
from services.onboarding.form import Kind
from services.onboarding.options import Option as Choice
from services.onboarding.outcomes import PageView, Review
from services.onboarding.request import Issue

MAX_OPTIONS = 100  # a select lists at most 100 options


def _option(choice: Choice) -> Option:
    return Option(value=cut(str(choice.value), 150), label=cut(choice.label, 75))


def _element(field: Field, t: Translator, listed: bool) -> Any:
    path = field.path
    if field.kind == Kind.SELECT:
        initial = _option(field.selected[0]) if field.selected else None
        if field.searched or listed:
            # Thousands of companies cannot be listed on open, unless /onboard named a few.
            return ExternalDataSelectElement(
                action_id=path,
                initial_option=initial,
                min_query_length=0 if listed else field.min_query,
            )
        options = [_option(c) for c in field.options][:MAX_OPTIONS]
        return StaticSelectElement(
            action_id=path, options=options or [Option(value="", label="-")], initial_option=initial
        )
    if field.kind == Kind.MULTI_SELECT:
        initial_options = [_option(c) for c in field.selected] or None
        if field.searched:
            return ExternalDataMultiSelectElement(
                action_id=path, initial_options=initial_options, min_query_length=0
            )
        options = [_option(c) for c in field.options][:MAX_OPTIONS]
        return StaticMultiSelectElement(
            action_id=path, options=options, initial_options=initial_options
        )
    if field.kind == Kind.CHOICE:
        options = [Option(value=c, label=cut(t(field.choice_key(c)), 75)) for c in field.choices]
        initial = next((o for o in options if o.value == field.value), None)
        return RadioButtonsElement(
            action_id=path, options=options[:MAX_CHECKBOXES], initial_option=initial
        )
    if field.kind == Kind.TOGGLE:
        option = Option(value="yes", label=cut(t(field.label_key, **field.label_params), 75))
        return CheckboxesElement(
            action_id=path, options=[option], initial_options=[option] if field.value else None
        )
    if field.kind == Kind.DATE:
        value = field.value
        return DatePickerElement(action_id=path, initial_date=str(value)[:10] if value else None)
    if field.kind == Kind.NUMBER:
        return NumberInputElement(
            action_id=path, is_decimal_allowed=False, initial_value=field.value,
            min_value=field.min_value, max_value=field.max_value,
        )  # fmt: skip
    value = field.value
    return PlainTextInputElement(
        action_id=path, initial_value=str(value) if value else None, max_length=field.max_length
    )


def _input(field: Field, t: Translator, listed: bool) -> InputBlock:
    help_text = t(field.help_key) if field.help_key and t.has(field.help_key) else ""
    return InputBlock(
        block_id=field.path,
        label=cut(t(field.label_key, **field.label_params), 2000),
        element=_element(field, t, listed),
        hint=cut(help_text, 2000) if help_text else None,
        optional=not field.required or field.kind == Kind.TOGGLE,
        dispatch_action=True if field.dependent else None,
    )


def field_blocks(fields: Sequence[Field], t: Translator, listed: str | None = None) -> list[Block]:
    """One input per field; each slot of a group (a billing contract) under its own header.
    The external select at path ``listed`` shows its options on open (the companies /onboard
    named)."""
    blocks: list[Block] = []
    slot: tuple[str, int] | None = None
    for field in fields:
        if field.group is not None and field.slot is not None and slot != (field.group, field.slot):
            slot = (field.group, field.slot)
            label = t(form.QUESTIONS[field.group].label_key)
            blocks.append(HeaderBlock(text=cut(f"{label} {field.slot + 1}", 150)))
        blocks.append(_input(field, t, listed == field.path))
    return blocks


def issue_notices(issues: Sequence[Issue], t: Translator) -> list[str]:
    """Issues shown at the top of a page (Slack shows ``errors`` only in an ack), by question."""
    seen: dict[str, str] = {}
    for issue in issues:
        seen.setdefault(issue.question, f"{form.question_label(issue.question, t)}: "
                                        f"{say(t, issue.key, issue.params, mrkdwn=False)}")  # fmt: skip
    return list(seen.values())


def page_view(view: PageView, t: Translator, meta: ViewMeta, notices: Sequence[str] = ()) -> View:
    """A form page. ``notices`` (plain text) go at the top, after the page's own."""
    title = f"{bold(literal(t(view.title_key)))} · {view.number}/{view.total}"
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=title)])]
    said = [say(t, n.key, n.params, mrkdwn=False) for n in view.notices]
    if meta.company_query and len(view.matches) > 1:
        said.append(t("slack.company_matches", count=len(view.matches), query=meta.company_query))
    said += issue_notices(view.elsewhere, t) + list(notices)
    if said:
        text = "\n".join(f"{emoji('warning')} {literal(n)}" for n in said)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(text, 3000))))
    listed = "company" if meta.company_query else None
    blocks += field_blocks(view.fields, t, listed)
    if not view.first:
        back = ButtonElement(text=t("slack.back"), action_id=Action.BACK, value=view.page)
        blocks.append(ActionsBlock(elements=[back]))
    submit = t("slack.review") if view.last else t("slack.next")
    return modal(t, Callback.PAGE, blocks, meta, submit)


def resume_view(t: Translator, meta: ViewMeta, company: str | None, page: str) -> View:
    prompt = t("slack.resume_prompt", company=bold(literal(company or "?")), page=t(f"page.{page}"))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=prompt)),
        ActionsBlock(
            elements=[
                ButtonElement(text=t("slack.resume"), action_id=Action.RESUME_DRAFT,
                              value=meta.draft_id, style="primary"),
                ButtonElement(text=t("slack.start_over"), action_id=Action.NEW_DRAFT,
                              value=meta.draft_id),
            ]
        ),
    ]  # fmt: skip
    return modal(t, Callback.RESUME, blocks, meta)


def review_view(review: Review, t: Translator, meta: ViewMeta) -> View:
    plan = review.plan
    title = t("plan.title", company=plan.company_name, changes=len(plan.changes),
              steps=len(plan.steps))  # fmt: skip
    blocks: list[Block] = [HeaderBlock(text=cut(title, 150))]
    if review.playbook is not None:  # which answers came from the playbook, before the plan
        shown = "\n".join(literal(line) for line in review.playbook.lines(t))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(shown, 3000))]))
    unchanged = [s for s in plan.steps if not s.changes]
    for step in plan.changes:
        lines = [bold(literal(step.describe(t)))]
        for change in step.changes:
            lines.append(f"• {literal(t('field.' + change.field))}: "
                         f"{literal(t.value(change.before))} → {literal(t.value(change.after))}")  # fmt: skip
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut("\n".join(lines), 3000))))
    if unchanged:
        names = ", ".join(literal(s.describe(t)) for s in unchanged)
        text = cut(f"{literal(t('plan.no_change'))}: {names}", 3000)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=text)]))
    if plan.invoice_missing:
        items = ", ".join(t(f"missing.{m}") for m in plan.invoice_missing)
        text = f"{emoji('receipt')} {literal(t('plan.invoice_pending', items=items))}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    back = ButtonElement(text=t("slack.back"), action_id=Action.BACK, value="review")
    blocks.append(ActionsBlock(elements=[back]))
    if (
        len(blocks) > MAX_VIEW_BLOCKS
    ):  # a very large onboarding: keep the head, say how much is left
        hidden = len(blocks) - MAX_VIEW_BLOCKS + 1
        more = ContextBlock(elements=[MarkdownTextObject(text=t("slack.more_steps", count=hidden))])
        blocks = [*blocks[: MAX_VIEW_BLOCKS - 2], more, blocks[-1]]
    return modal(t, Callback.REVIEW, blocks, meta, t("slack.apply"))
