"""Graceful shutdown: stop taking work, let the work already accepted finish, within a bound.

"Work" is whatever runs inside ``Drain.work()`` (each Slack request, each scheduled job) plus
every task started from inside it, however deep: Bolt runs a listener on as a task after its ack,
and listeners start background tasks of their own. A task factory on the event loop notices tasks
created in a work context (the context variable is inherited), so the front-ends need not know
that shutdown exists.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Coroutine, Generator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

_IN_WORK: contextvars.ContextVar[Drain | None] = contextvars.ContextVar("in_work", default=None)


class Drain:
    def __init__(self) -> None:
        self.draining = False
        self._scopes = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def busy(self) -> int:
        """Requests, jobs and their tasks still running."""
        return self._scopes + len(self._tasks)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Track tasks started from work on ``loop`` (call once, at start-up)."""
        previous = loop.get_task_factory()

        def factory(
            loop: asyncio.AbstractEventLoop,
            coro: Coroutine[Any, Any, Any],
            context: contextvars.Context | None = None,
        ) -> asyncio.Task[Any]:
            if previous is None:
                task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, context=context)
            elif context is None:
                task = previous(loop, coro)  # type: ignore[assignment]
            else:
                task = previous(loop, coro, context=context)  # type: ignore[call-arg,assignment]
            owner = (context or contextvars.copy_context()).get(_IN_WORK)
            if owner is self:
                self._track(task)
            return task

        loop.set_task_factory(factory)  # type: ignore[arg-type]  # typeshed lacks the context argument

    @contextmanager
    def work(self) -> Generator[None, None, None]:
        """Count what runs inside (and the tasks it starts) as accepted work."""
        token = _IN_WORK.set(self)
        self._scopes += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._scopes -= 1
            _IN_WORK.reset(token)
            self._maybe_idle()

    def start(self) -> None:
        self.draining = True

    async def wait(self, within: float) -> bool:
        """``True`` when every piece of work finished within ``within`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    async def cancel_rest(self, grace: float = 2.0) -> list[str]:
        """Cancel the tasks still running after the bound; returns what they were running."""
        tasks = [t for t in self._tasks if not t.done()]
        names = [getattr(t.get_coro(), "__qualname__", t.get_name()) for t in tasks]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        return names

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if self.busy == 0:
            self._idle.set()
