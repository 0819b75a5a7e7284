"""Processes for the self-healing tests: an onboarding service per "process" on one database and
one sandbox tenant, transports that lose answers or die mid-run, and the database on both
engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES, RetryPolicy
from services.autotask.reference import ReferenceData
from services.autotask.sandbox import sandbox_credentials
from services.directory import Directory
from services.onboarding.options import OptionSources
from services.onboarding.presenter import Presenters
from services.onboarding.runner import Runner
from services.onboarding.service import OnboardingService
from services.store.db import Database
from services.store.engine import make_engine
from services.store.migrate import upgrade
from tests.onboarding_support import reset_database, sqlite_database
from tests.services.onboarding.conftest import RecordingPresenter

UNEXPECTED = {"errors": ["An unexpected error has occurred. Error ID: 5150"]}


class ProcessKilled(BaseException):
    """Not an Exception: nothing in the product may catch it, as nothing survives a SIGKILL."""


def is_write(request: httpx.Request) -> bool:
    return request.method in ("POST", "PATCH", "DELETE") and "/query" not in request.url.path


class LoseFirstAnswers(httpx.AsyncBaseTransport):
    """Every distinct write lands at Autotask, but the first answer to it is a bare 500 (the
    connection to the API dropped after Autotask committed): the case that duplicates records
    when a create is simply sent again."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.seen, self.lost = inner, set[tuple[str, str, bytes]](), 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        key = (request.method, request.url.path, request.content)
        if is_write(request) and key not in self.seen:
            self.seen.add(key)
            self.lost += 1
            return httpx.Response(500, json=UNEXPECTED)
        return response


class DieAfterWrite(httpx.AsyncBaseTransport):
    """Passes calls through; once armed, write ``n`` lands and then the process dies."""

    def __init__(self, inner: httpx.AsyncBaseTransport, n: int) -> None:
        self.inner, self.n, self.writes, self.armed = inner, n, 0, True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.armed and is_write(request):
            self.writes += 1
            if self.writes == self.n:
                raise ProcessKilled(f"killed after write {self.n}")
        return response


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Process:
    """One process of the bot: its own client, runner (lease owner) and service."""

    service: OnboardingService
    presenter: RecordingPresenter
    runner: Runner
    http: httpx.AsyncClient
    waits: list[float] = field(default_factory=list)


@asynccontextmanager
async def process(
    db: Database,
    transport: httpx.AsyncBaseTransport,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    lease: timedelta = timedelta(minutes=2),
    step_retries: int = 3,
    auto_resumes: int = 3,
    client_retry: RetryPolicy = NO_DELAY_RETRIES,
    heartbeat: float | None = None,
    name: str = "p",
    wait: bool = False,
) -> AsyncIterator[Process]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the client's back-offs, recorded (and waited)
        waits.append(seconds)
        if wait:
            await asyncio.sleep(seconds)

    async with httpx.AsyncClient(transport=transport) as http:
        client = AutotaskClient(
            sandbox_credentials(), http_client=http, retry=client_retry, sleep=sleep
        )
        reference = ReferenceData(client)
        runner = Runner(client=client, reference=reference, db=db, clock=clock, lease=lease,
                        owner=name, step_retries=step_retries, heartbeat=heartbeat,
                        step_backoff=RetryPolicy(base_delay=0.0, max_delay=0.0))  # fmt: skip
        presenter = RecordingPresenter()
        presenters = Presenters()
        presenters.register("test", presenter)
        service = OnboardingService(
            runner=runner, options=OptionSources(client, reference), db=db,
            directory=Directory(reference), presenters=presenters, auto_resumes=auto_resumes,
        )  # fmt: skip
        yield Process(service, presenter, runner, http, waits)


@asynccontextmanager
async def database(
    kind: str, tmp_path: Path, postgres_url: Callable[[], str]
) -> AsyncIterator[Database]:
    if kind == "sqlite":
        async with sqlite_database(tmp_path / "heal.db") as db:
            yield db
        return
    url = postgres_url()
    await reset_database(url)
    await upgrade(url)
    engine = make_engine(url)
    try:
        yield Database(engine)
    finally:
        await engine.dispose()
        await reset_database(url)
