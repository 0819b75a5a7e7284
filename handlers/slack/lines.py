"""One-line summaries of drafts and onboardings, shared by ``/onboard status|list`` and App Home."""

from __future__ import annotations

from handlers.slack.mrkdwn import bold, date, literal
from services.i18n import Translator
from services.onboarding.outcomes import DraftSummary, OnboardingSummary


def onboarding_line(o: OnboardingSummary, t: Translator) -> str:
    return t("slack.status_line", company=bold(literal(o.company_name)),
             status=t(f"status.{o.status}"), done=o.done, total=o.total,
             when=date(o.updated_at))  # fmt: skip


def draft_line(d: DraftSummary, t: Translator) -> str:
    return t("slack.draft_line", company=bold(literal(d.company_name or "?")),
             page=t(f"page.{d.page}"))  # fmt: skip
