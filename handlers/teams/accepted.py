"""Answering an Action.Execute in time for work that starts slowly: the work runs in the
background and the invoke is answered as soon as the service accepted it (the person checked, the
row claimed), with its refusal if one came first, or "still working" once the budget is spent.
Teams shows an error for an invoke not answered within about 5 seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from handlers.background import Background

OnAccepted = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Started:
    accepted: bool  # the service took the work on: it goes on in the background
    refusal: str | None  # what to answer with, when the work ended (refused) before that
    done: bool  # the work ended within the budget


async def start_within(
    background: Background,
    work: Callable[[OnAccepted, Callable[[], bool]], Coroutine[Any, Any, str | None]],
    budget: float,
) -> Started:
    """Run ``work(on_accepted, accepted)`` in the background (``accepted()`` tells it whether a
    refusal still has someone to reach) and wait for acceptance or its end, at most ``budget``."""
    accepted = asyncio.Event()

    async def on_accepted() -> None:
        accepted.set()

    task = background.run(work(on_accepted, accepted.is_set))
    waiting = asyncio.ensure_future(accepted.wait())
    try:
        await asyncio.wait({task, waiting}, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
    if accepted.is_set():
        return Started(True, None, task.done())
    if task.done():
        return Started(False, task.result(), True)
    return Started(False, None, False)
