"""An engine wired to the sandbox and a fresh SQLite database; the onboarding service over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.directory import Directory
from services.onboarding.actor import Actor
from services.onboarding.options import OptionSources
from services.onboarding.presenter import MessageRef, Presenters, Requester, RunView
from services.onboarding.runner import Runner
from services.onboarding.service import OnboardingService
from services.onboarding.steps import PortalSecret
from services.store.db import Database
from tests.onboarding_support import sqlite_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path / "engine.db") as database:
        yield database


@pytest.fixture
def runner(autotask: AutotaskClient, db: Database) -> Runner:
    return Runner(client=autotask, reference=ReferenceData(autotask), db=db)


class RecordingPresenter:
    """The progress-message side of a front-end, recording what the service asked it to show."""

    def __init__(self) -> None:
        self.opened: list[RunView] = []
        self.updates: list[tuple[MessageRef, RunView]] = []
        self.finished: list[tuple[MessageRef, RunView]] = []
        self.delivered: list[tuple[Requester, list[PortalSecret]]] = []
        self.told_resumed: list[RunView] = []
        self.on_update: Callable[[RunView], Awaitable[None]] | None = None  # a click meanwhile

    async def open(self, run: RunView) -> MessageRef:
        self.opened.append(run)
        return {"message": len(self.opened)}

    async def update(self, ref: MessageRef, run: RunView) -> None:
        self.updates.append((ref, run))
        if self.on_update is not None:
            await self.on_update(run)

    async def finish(self, ref: MessageRef, run: RunView) -> None:
        self.finished.append((ref, run))

    async def deliver_secrets(self, run: RunView, secrets: Sequence[PortalSecret]) -> None:
        self.delivered.append((run.requester, list(secrets)))

    async def resumed(self, run: RunView) -> None:
        self.told_resumed.append(run)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def presenter() -> RecordingPresenter:
    return RecordingPresenter()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(
    runner: Runner, autotask: AutotaskClient, db: Database, presenter: RecordingPresenter,
    clock: Clock,
) -> OnboardingService:  # fmt: skip
    presenters = Presenters()
    presenters.register("test", presenter)
    admins = ["beatriz.lima@brightline-it.example"]
    return OnboardingService(
        runner=runner, options=OptionSources(autotask, runner.reference), db=db,
        directory=Directory(runner.reference, admins=admins), presenters=presenters, clock=clock,
    )  # fmt: skip


async def person(service: OnboardingService, user_id: str, email: str, locale: str = "en") -> Actor:
    return await service.identify(platform="test", user_id=user_id, email=email, locale=locale)


MARTA = ("U1", "marta.ruiz@brightline-it.example")
DAN = ("U2", "dan.okafor@brightline-it.example", "es")
BEATRIZ = ("UB", "beatriz.lima@brightline-it.example")  # an onboarding administrator here
VISITOR = ("U3", "visitor@elsewhere.example")
