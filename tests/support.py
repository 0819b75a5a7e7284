"""Small helpers shared by tests and benchmarks."""

from __future__ import annotations


class Sleeps:
    """A zero-delay ``sleep`` that records what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
