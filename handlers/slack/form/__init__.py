"""The onboarding form: ``/onboard``, its pages, typeahead, dependent redraws, review and Apply."""

from __future__ import annotations

from typing import Any

from handlers.slack.deps import SlackDeps
from handlers.slack.form import command, pages, review, typeahead


def register(app: Any, deps: SlackDeps) -> None:
    for listeners in (command, pages, review, typeahead):
        listeners.register(app, deps)
