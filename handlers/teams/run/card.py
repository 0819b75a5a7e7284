"""A run's progress card and the requester's private messages, as pure functions of data.

Retry and Cancel are Universal Actions (``Action.Execute``): Teams sends them to the bot as
``adaptiveCard/action`` invokes from whoever pressed, and the bot decides (``buttons.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microsoft_teams.cards import ActionSet, CardElement, ExecuteAction, OpenUrlAction

from handlers.teams.cards import card, text
from handlers.teams.form.render import attention
from handlers.teams.ids import Verb
from services.i18n import Translator
from services.onboarding.outcomes import OnboardingSummary
from services.onboarding.presenter import RunView, StepView
from services.onboarding.steps import PortalSecret

ICONS = {"pending": "○", "running": "⏳", "done": "✅", "skipped": "➖", "failed": "❌",
         "cancelled": "⛔"}  # fmt: skip
MAX_STEP_LINES = 80  # a card stays far below Teams' 28 KB message limit


def step_line(step: StepView, t: Translator) -> str:
    return f"{ICONS.get(step.state, '•')} {t(f'step.{step.kind}', **step.params)}"


def state_line(run: RunView, t: Translator) -> str | None:
    """While a run is under way: step k of n, resumed after an interruption, or waiting for
    Autotask (why, in Autotask's words, and when it tries again, UTC). The end is said by the
    status and the steps."""
    state = run.state
    if state == "waiting" and run.waiting is not None:
        waiting = run.waiting
        at = waiting.until.strftime("%H:%M:%S UTC")
        return t("run.waiting", company=run.company_name,
                 reason=t(f"run.reason.{waiting.failure}"), said=waiting.said, at=at)  # fmt: skip
    if state in ("applying", "resumed"):
        current = run.current
        if current is None:
            return None
        step, total = run.position
        what = t(f"step.{current.kind}", **current.params)
        return t(f"run.{state}", company=run.company_name, step=step, total=total, what=what)
    return None


def progress_card(run: RunView) -> dict[str, Any]:
    """In the requester's language: title, status, what it is doing, each step, the failure
    with Autotask's words; Cancel while applying, Retry after a failure, the Autotask link at
    the end."""
    t = Translator(run.requester.locale)
    body: list[CardElement] = [
        text(t("slack.progress_title", company=run.company_name), heading=True),
        text(t("teams.progress_status", status=t(f"status.{run.status}")), subtle=True),
    ]
    now = state_line(run, t)
    if now:
        body.append(text(now))
    lines = [step_line(s, t) for s in run.steps]
    if len(lines) > MAX_STEP_LINES:
        lines = [*lines[: MAX_STEP_LINES - 1], t("slack.more_steps", count=len(lines) + 1 -
                                                 MAX_STEP_LINES)]  # fmt: skip
    body.append(text("\n".join(lines)))
    failed = run.failed
    if failed is not None:
        body.append(attention(t("report.failed", step=t(f"step.{failed.kind}", **failed.params),
                                error=failed.error)))  # fmt: skip
    data = {"onboarding": run.onboarding_id}
    actions: list[ExecuteAction | OpenUrlAction] = []
    if run.status == "applying":
        actions.append(ExecuteAction(title=t("slack.cancel"), verb=str(Verb.CANCEL), data=data,
                                     style="destructive"))  # fmt: skip
    if run.status in ("failed", "cancelled"):
        actions.append(ExecuteAction(title=t("slack.retry"), verb=str(Verb.RETRY), data=data,
                                     style="positive"))  # fmt: skip
    if run.link and run.status in ("applied", "failed"):
        actions.append(OpenUrlAction(title=t("slack.open_autotask"), url=run.link))
    return card(body, actions)


def summary(run: RunView) -> str:
    """The notification text of the card: company and status."""
    t = Translator(run.requester.locale)
    return f"{t('slack.progress_title', company=run.company_name)}: {t(f'status.{run.status}')}"


def passwords_text(secrets: Sequence[PortalSecret], t: Translator) -> str:
    """One line per Client Portal user, sent as plain text (no character formatted away)."""
    return "\n".join(
        t("report.portal_password", contact=s.contact, user=s.user_name, password=s.password)
        for s in secrets
    )


MAX_UNFINISHED = 5


def unfinished_card(found: Sequence[OnboardingSummary], t: Translator) -> dict[str, Any]:
    """Beside "onboard": the person's own onboardings that failed (Retry) or stopped with the
    bot (Resume), newest first; both buttons are the progress card's Retry, checked again for
    the person who presses."""
    body: list[CardElement] = [text(t("slack.unfinished_intro"), heading=True)]
    for o in found[:MAX_UNFINISHED]:
        when = o.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        line = t("slack.status_line", company=o.company_name, status=t(f"status.{o.status}"),
                 done=o.done, total=o.total, when=when)  # fmt: skip
        body.append(text(line))
        if o.stranded:
            body.append(text(t("slack.unfinished_stranded"), subtle=True))
        elif o.failed is not None and o.failed.error:
            body.append(attention(o.failed.error[:500]))
        label = t("slack.resume") if o.stranded else t("slack.retry")
        body.append(ActionSet(actions=[ExecuteAction(title=label, verb=str(Verb.RETRY),
                                                     data={"onboarding": o.id},
                                                     style="positive")]))  # fmt: skip
    return card(body)
