"""One answer per invoke, within Teams' 5 seconds, whatever Autotask's latency.

A dialog cannot be changed after its invoke is answered, so work that outlives the budget (or
that the service reports slow through ``on_slow``) goes on in the background and the dialog says
so, with a Continue button; pressing it shows the outcome once it is ready (``Verb.POLL``). The
outcome waits in this process's memory; another replica, or a restart, shows the draft's current
page instead, which the service saved before any Autotask call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from microsoft_teams.api.models import TaskModuleResponse

from handlers.teams.deps import TeamsDeps
from handlers.teams.dialogs import dialog
from handlers.teams.form.render import working_card
from services.i18n import Translator
from services.onboarding.outcomes import Slow

logger = logging.getLogger(__name__)

Work = Callable[[Slow], Coroutine[Any, Any, TaskModuleResponse]]
SLOW_KEYS = {"checking": "slack.checking", "planning": "slack.planning",
             "loading": "slack.loading"}  # fmt: skip


class Answers:
    def __init__(self, deps: TeamsDeps) -> None:
        self.deps = deps
        self.pending: dict[str, asyncio.Task[TaskModuleResponse]] = {}  # draft id -> outcome

    async def within_budget(
        self, draft_id: str | None, t: Translator, work: Work
    ) -> TaskModuleResponse:
        """``work``'s answer if it comes in time; else "still working" with Continue, while
        ``work`` finishes (its outcome kept for Continue when it belongs to a draft)."""
        slow = asyncio.Event()
        doing: list[str] = []

        async def on_slow(what: str) -> None:
            doing.append(what)
            slow.set()

        task: asyncio.Task[TaskModuleResponse] = self.deps.background.run(work(on_slow))
        return await self._wait(draft_id, t, task, slow, doing)

    async def outcome(self, draft_id: str, t: Translator) -> TaskModuleResponse | None:
        """After Continue: the kept outcome (waiting for it within the budget), or ``None`` when
        this process keeps none for the draft."""
        task = self.pending.get(draft_id)
        if task is None:
            return None
        return await self._wait(draft_id, t, task, asyncio.Event(), [])

    async def _wait(
        self,
        draft_id: str | None,
        t: Translator,
        task: asyncio.Task[TaskModuleResponse],
        slow: asyncio.Event,
        doing: list[str],
    ) -> TaskModuleResponse:
        signalled = asyncio.ensure_future(slow.wait())
        try:
            await asyncio.wait({task, signalled}, timeout=self.deps.invoke_budget,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        finally:
            signalled.cancel()
        if task.done():
            if draft_id is not None and self.pending.get(draft_id) is task:
                del self.pending[draft_id]
            return task.result()
        logger.info("Teams dialog answered 'still working' (%s)", doing[0] if doing else "slow")
        key = SLOW_KEYS.get(doing[0], "teams.still_working") if doing else "teams.still_working"
        if draft_id is None:
            return dialog(working_card(t, key, ""), t("teams.title"), size="small")
        self.pending[draft_id] = task
        return dialog(working_card(t, key, draft_id), t("teams.title"), size="small")
