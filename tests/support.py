"""Small helpers shared by tests and benchmarks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    """What a chat platform got back from the bot's HTTP route, and how long it waited."""

    status: int
    body: Any
    seconds: float

    @classmethod
    def of(cls, status: int, text: str, seconds: float) -> Reply:
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return cls(status, parsed, seconds)


class Sleeps:
    """A zero-delay ``sleep`` that records what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
