"""Shared fixtures: a clean environment, the sandbox tenant, a real client wired to it."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.settings import Settings
from services.autotask.client import AutotaskClient
from services.autotask.limits import NO_DELAY_RETRIES, EntityLimiter
from services.autotask.sandbox import SandboxTransport, Tenant, build_tenant, sandbox_credentials
from services.autotask.sandbox.transport import add_observer, remove_observer
from services.autotask.zones import Credentials
from tests.autotask_api import ConformanceRecorder
from tests.support import Sleeps

_OUR_PREFIXES = (
    "SLACK_", "TEAMS_", "PUBLIC_URL", "AUTOTASK_", "DATABASE_URL", "BILLING_ADMINS", "ONBOARDERS",
    "SANDBOX_", "REMINDER_",
)  # fmt: skip
# CI and a laptop use database `test`; TEST_POSTGRES_URL lets parallel checkouts use their own.
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's own settings or .env."""
    for key in list(os.environ):
        if key.startswith(_OUR_PREFIXES) or key.lower() in Settings.model_fields:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def autotask_conformance() -> Iterator[ConformanceRecorder]:
    """Fail the test that sent Autotask anything its published API does not document.

    Every sandbox transport of the process reports to it, so this covers the engine, the Slack
    harness, reminders and anything served over HTTP alike. A test that provokes such a call on
    purpose takes the problems (``take_problems()``) and asserts on them.
    """
    recorder = ConformanceRecorder()
    add_observer(recorder)
    try:
        yield recorder
    finally:
        remove_observer(recorder)
    problems = recorder.take_problems()
    if problems:
        pytest.fail(
            "Autotask's published API does not document these calls:\n  "
            + "\n  ".join(dict.fromkeys(problems)),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def seeded() -> Tenant:
    return build_tenant()


@pytest.fixture
def tenant() -> Tenant:
    return build_tenant()


@pytest.fixture
def sandbox(tenant: Tenant) -> SandboxTransport:
    return SandboxTransport(tenant)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def credentials() -> Credentials:
    return sandbox_credentials()


@pytest.fixture
async def autotask(
    sandbox: SandboxTransport, credentials: Credentials, sleeps: Sleeps
) -> AsyncIterator[AutotaskClient]:
    async with httpx.AsyncClient(transport=sandbox) as http:
        yield AutotaskClient(
            credentials,
            http_client=http,
            limiter=EntityLimiter(3),
            retry=NO_DELAY_RETRIES,
            sleep=sleeps,
        )


def _postgres_reachable() -> bool:
    url = httpx.URL(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1))
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres_url() -> str:
    """PostgreSQL for the tests that need it: required in CI, skipped with a reason elsewhere."""
    if not _postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI but 127.0.0.1:5432 is not reachable")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (start it to run this test)")
    return POSTGRES_URL
