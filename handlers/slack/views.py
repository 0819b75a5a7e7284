"""Modal and App Home views, as pure functions of data, built with ``slack_sdk.models``.

``to_dict()`` of these models enforces Slack's own limits (title 24, private_metadata 3000, option
text 75, ...); ``checked`` adds the ones slack_sdk does not check (blocks per view).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from handlers.slack.text import MAX_CHECKBOXES, MAX_VIEW_BLOCKS, cut, escape
from services.i18n import Translator
from services.onboarding import form
from services.onboarding.form import Kind, Question
from services.onboarding.options import Option as Choice
from services.onboarding.plan import Plan

# Long or per-company lists are searched as you type; short tenant lists are shown whole.
EXTERNAL_SOURCES = frozenset({"companies", "resources", "contacts", "team_members", "devices"})

Lists = Mapping[str, Sequence[Choice]]  # option source -> options (static lists, and labels)


def checked(view: View) -> View:
    if len(view.blocks) > MAX_VIEW_BLOCKS:
        raise ValueError(f"a view takes at most {MAX_VIEW_BLOCKS} blocks, got {len(view.blocks)}")
    view.to_dict()  # runs slack_sdk's validators now, not at send time
    return view


def _modal(
    t: Translator,
    callback: Callback,
    blocks: list[Block],
    meta: ViewMeta | None,
    submit: str | None = None,
) -> View:
    return checked(
        View(
            type="modal",
            callback_id=callback,
            title=cut(t("slack.title"), 24),
            submit=cut(submit, 24) if submit else None,
            close=cut(t("slack.close"), 24),
            blocks=blocks,
            private_metadata=meta.dump() if meta else None,
            notify_on_close=True,
        )
    )


def loading_view(
    t: Translator, text_key: str = "slack.loading", meta: ViewMeta | None = None
) -> View:
    return _modal(
        t,
        Callback.LOADING,
        [SectionBlock(text=MarkdownTextObject(text=f":hourglass_flowing_sand: {t(text_key)}"))],
        meta,
    )


def message_view(t: Translator, text: str, meta: ViewMeta | None = None) -> View:
    return _modal(
        t, Callback.DONE, [SectionBlock(text=MarkdownTextObject(text=cut(text, 3000)))], meta
    )


def resume_view(t: Translator, meta: ViewMeta, company: str | None, page: str) -> View:
    prompt = t("slack.resume_prompt", company=escape(company or "?"), page=t(f"page.{page}"))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=prompt)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t("slack.resume"),
                    action_id=Action.RESUME_DRAFT,
                    value=meta.draft_id,
                    style="primary",
                ),
                ButtonElement(
                    text=t("slack.start_over"), action_id=Action.NEW_DRAFT, value=meta.draft_id
                ),
            ]
        ),
    ]
    return _modal(t, Callback.RESUME, blocks, meta)


def _option(choice: Choice) -> Option:
    return Option(value=cut(str(choice.value), 150), label=cut(choice.label, 75))


def _choice(lists: Lists, source: str, value: Any) -> Choice | None:
    return next((c for c in lists.get(source, ()) if str(c.value) == str(value)), None)


def _label_of(lists: Lists, source: str, value: Any) -> Option | None:
    choice = _choice(lists, source, value)
    return _option(choice) if choice is not None else None


def _name(lists: Lists, source: str, value: Any) -> str:
    """The label people know a chosen value by (a service's name), else the value itself."""
    choice = _choice(lists, source, value)
    return choice.label if choice is not None else str(value)


def _element(
    q: Question, block_id: str, value: Any, lists: Lists, t: Translator, listed: bool = False
) -> Any:
    source = q.source or ""
    if q.kind == Kind.SELECT:
        initial = _label_of(lists, source, value) if value not in (None, "") else None
        if source in EXTERNAL_SOURCES:
            # Every company is too many to list on open, unless /onboard named a few of them.
            return ExternalDataSelectElement(
                action_id=block_id,
                initial_option=initial,
                min_query_length=0 if source != "companies" or listed else 1,
            )
        options = [_option(c) for c in lists.get(source, ())][:100]
        return StaticSelectElement(
            action_id=block_id,
            options=options or [Option(value="", label="-")],
            initial_option=initial,
        )
    if q.kind in (Kind.MULTI_SELECT, Kind.ASSIGNMENTS):
        initial_options = [
            o for v in (value or []) if (o := _label_of(lists, source, v)) is not None
        ]
        if source in EXTERNAL_SOURCES:
            return ExternalDataMultiSelectElement(
                action_id=block_id, initial_options=initial_options or None, min_query_length=0
            )
        options = [_option(c) for c in lists.get(source, ())][:100]
        return StaticMultiSelectElement(
            action_id=block_id, options=options, initial_options=initial_options or None
        )
    if q.kind == Kind.CHOICE:
        options = [Option(value=c, label=cut(t(f"choice.{q.id}.{c}"), 75)) for c in q.choices]
        initial = next((o for o in options if o.value == value), None)
        return RadioButtonsElement(
            action_id=block_id, options=options[:MAX_CHECKBOXES], initial_option=initial
        )
    if q.kind == Kind.TOGGLE:
        option = Option(value="yes", label=cut(t(q.label_key), 75))
        return CheckboxesElement(
            action_id=block_id, options=[option], initial_options=[option] if value else None
        )
    if q.kind == Kind.DATE:
        return DatePickerElement(
            action_id=block_id, initial_date=str(value)[:10] if value else None
        )
    if q.kind == Kind.NUMBER:
        return NumberInputElement(action_id=block_id, min_value=0, initial_value=value)
    return PlainTextInputElement(
        action_id=block_id, initial_value=str(value) if value else None, max_length=q.max_length
    )


def _input(
    q: Question,
    block_id: str,
    label: str,
    value: Any,
    lists: Lists,
    t: Translator,
    listed: bool = False,
) -> InputBlock:
    help_text = t(q.help_key) if t.has(q.help_key) else ""
    return InputBlock(
        block_id=block_id,
        label=cut(label, 2000),
        element=_element(q, block_id, value, lists, t, listed),
        hint=cut(help_text, 2000) if help_text else None,
        optional=not q.required or q.kind == Kind.TOGGLE,
        dispatch_action=True if q.dependent and q.kind != Kind.QUANTITIES else None,
    )


def page_blocks(
    page: form.Page,
    answers: Mapping[str, Any],
    lists: Lists,
    t: Translator,
    listed: frozenset[str] = frozenset(),
) -> list[Block]:
    """The inputs of a page; the external selects of ``listed`` questions show options on open."""
    blocks: list[Block] = []
    for q in page.questions:
        if not q.shown(answers):
            continue
        value = answers.get(q.id)
        if q.kind == Kind.QUANTITIES:
            chosen = list((value or {}).keys())
            picker = Question(q.id, Kind.MULTI_SELECT, q.source, dependent=True)
            blocks.append(_input(picker, q.id, t(q.label_key), chosen, lists, t))
            for service_id, units in (value or {}).items():
                number = Question(f"{q.id}.{service_id}", Kind.NUMBER, required=True)
                label = t("console.units_for", service=_name(lists, q.source or "", service_id))
                blocks.append(_input(number, f"{q.id}.{service_id}", label, units, lists, t))
        elif q.kind == Kind.ASSIGNMENTS:
            for service_id in answers.get("services") or {}:
                label = t("console.devices_for", service=_name(lists, "services", service_id))
                devices = (value or {}).get(str(service_id)) or (value or {}).get(service_id)
                blocks.append(_input(q, f"{q.id}.{service_id}", label, devices, lists, t))
        elif q.kind == Kind.GROUP:
            items = list(value or [])
            for i in range(q.max_items):
                item = items[i] if i < len(items) else {}
                blocks.append(HeaderBlock(text=cut(f"{t(q.label_key)} {i + 1}", 150)))
                for sub in q.fields:
                    sub_q = Question(
                        f"{q.id}.{sub.id}",
                        sub.kind,
                        sub.source,
                        required=False,
                        max_length=sub.max_length,
                    )
                    blocks.append(
                        _input(
                            sub_q,
                            f"{q.id}.{i}.{sub.id}",
                            t(sub_q.label_key),
                            item.get(sub.id),
                            lists,
                            t,
                        )
                    )
        else:
            blocks.append(_input(q, q.id, t(q.label_key), value, lists, t, q.id in listed))
    return blocks


def page_view(
    page_id: str,
    answers: Mapping[str, Any],
    lists: Lists,
    t: Translator,
    meta: ViewMeta,
    notices: Sequence[str] = (),
) -> View:
    page = form.page(page_id)
    pages = form.visible_pages(answers)
    number = next((i for i, p in enumerate(pages, 1) if p.id == page_id), 1)
    blocks: list[Block] = [
        ContextBlock(
            elements=[MarkdownTextObject(text=f"*{t(page.title_key)}* · {number}/{len(pages)}")]
        )
    ]
    if notices:
        text = "\n".join(f":warning: {escape(n)}" for n in notices)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(text, 3000))))
    listed = frozenset({"company"} if meta.company_query else ())
    blocks += page_blocks(page, answers, lists, t, listed)
    if form.previous_page(page_id, answers) is not None:
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(text=t("slack.back"), action_id=Action.BACK, value=page_id)]
            )
        )
    last = form.next_page(page_id, answers) is None
    return _modal(t, Callback.PAGE, blocks, meta, t("slack.review") if last else t("slack.next"))


def review_view(plan: Plan, t: Translator, meta: ViewMeta) -> View:
    blocks: list[Block] = [
        HeaderBlock(
            text=cut(
                t(
                    "plan.title",
                    company=plan.company_name,
                    changes=len(plan.changes),
                    steps=len(plan.steps),
                ),
                150,
            )
        )
    ]
    unchanged = [s for s in plan.steps if not s.changes]
    for step in plan.changes:
        lines = [f"*{escape(step.describe(t))}*"]
        for change in step.changes:
            lines.append(
                f"• {escape(t('field.' + change.field))}: {escape(t.value(change.before))} → "
                f"{escape(t.value(change.after))}"
            )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut("\n".join(lines), 3000))))
    if unchanged:
        names = ", ".join(escape(s.describe(t)) for s in unchanged)
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=cut(f"{t('plan.no_change')}: {names}", 3000))]
            )
        )
    if plan.invoice_missing:
        items = ", ".join(t(f"missing.{m}") for m in plan.invoice_missing)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f":receipt: {t('plan.invoice_pending', items=items)}")
            )
        )
    blocks.append(
        ActionsBlock(
            elements=[ButtonElement(text=t("slack.back"), action_id=Action.BACK, value="review")]
        )
    )
    if (
        len(blocks) > MAX_VIEW_BLOCKS
    ):  # a very large onboarding: keep the head, say how much is left
        hidden = len(blocks) - MAX_VIEW_BLOCKS + 1
        blocks = [
            *blocks[: MAX_VIEW_BLOCKS - 2],
            ContextBlock(elements=[MarkdownTextObject(text=t("slack.more_steps", count=hidden))]),
            blocks[-1],
        ]
    return _modal(t, Callback.REVIEW, blocks, meta, t("slack.apply"))


def error_notices(errors: Mapping[str, str], t: Translator) -> list[str]:
    """Errors for a view that could not be answered in the ack: shown at the top of the page."""
    return [f"{form.question_label(qid, t)}: {message}" for qid, message in errors.items()]
