"""``doctor`` gives the fix for what failed: a network error is not a security-level problem, and
refused credentials are not a network problem."""

from __future__ import annotations

from typing import Any

import pytest

from bot.container import build
from bot.doctor import Check, run_checks
from bot.settings import Settings
from services.autotask.sandbox import Fault, SandboxTransport, build_tenant
from tests.process import served_sandbox


async def _credentials_check(env: dict[str, str], **overrides: str) -> Check:
    values: dict[str, Any] = {k.lower(): v for k, v in {**env, **overrides}.items()}
    settings = Settings(_env_file=None, sandbox_state_file=None, autotask_max_retries=0,
                        database_url="sqlite+aiosqlite:///:memory:", **values)  # fmt: skip
    async with build(settings) as container:
        checks = await run_checks(container)
    return next(c for c in checks if c.name == "Autotask credentials")


async def test_an_unreachable_autotask_is_a_network_fix_not_a_security_level() -> None:
    env = {"AUTOTASK_BASE_URL": "http://127.0.0.1:1/ATServicesRest/",
           "AUTOTASK_USERNAME": "api@msp.example", "AUTOTASK_SECRET": "real-secret",
           "AUTOTASK_INTEGRATION_CODE": "REAL-CODE"}  # fmt: skip
    check = await _credentials_check(env)
    assert not check.ok
    assert "did not answer" in check.fix and "HTTPS" in check.fix
    assert "security level" not in check.fix and "AUTOTASK_SECRET" not in check.fix


@pytest.mark.parametrize(
    ("fault", "fix", "not_fix"),
    [
        (None, "check AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE", "security level"),
        (Fault(status=403, errors=["User does not have adequate permissions"], method="GET"),
         "security level with API access", "network"),
        (Fault(status=429, errors=["Request threshold exceeded"], method="GET"),
         "in a few minutes", "security level"),
    ],
)  # fmt: skip
async def test_each_autotask_failure_gets_its_own_fix(
    fault: Fault | None, fix: str, not_fix: str
) -> None:
    transport = SandboxTransport(build_tenant(), enforce_zone_host=False)  # served on 127.0.0.1
    async with served_sandbox(transport) as env:
        if fault is None:
            check = await _credentials_check(env, AUTOTASK_SECRET="not-the-secret")
        else:
            transport.fail_next(fault)
            check = await _credentials_check(env)
    assert not check.ok and fix in check.fix and not_fix not in check.fix, check
