"""An Autotask emulator at the HTTP boundary, for tests, benchmarks, demos and local mode."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from services.autotask.sandbox.seed import (
    SANDBOX_INTEGRATION_CODE,
    SANDBOX_SECRET,
    SANDBOX_USERNAME,
    build_tenant,
)
from services.autotask.sandbox.tenant import Tenant
from services.autotask.sandbox.transport import (
    FAULT_KINDS,
    Fault,
    RandomFaults,
    SandboxTransport,
)
from services.autotask.zones import Credentials

__all__ = [
    "FAULT_KINDS",
    "SANDBOX_INTEGRATION_CODE",
    "SANDBOX_SECRET",
    "SANDBOX_USERNAME",
    "Fault",
    "RandomFaults",
    "SandboxTransport",
    "Tenant",
    "build_tenant",
    "open_tenant",
    "sandbox_credentials",
]


def open_tenant(path: Path | None) -> Tenant:
    """The tenant stored at ``path`` (seeded on first use), or a fresh in-memory one."""
    if path is None:
        return build_tenant()
    if path.exists():
        return Tenant.load(path)
    tenant = build_tenant()
    tenant.path = path
    tenant.save()
    return tenant


def sandbox_credentials() -> Credentials:
    """The built-in sandbox's API user: public values, useless against a real tenant."""
    return Credentials(
        SANDBOX_USERNAME, SecretStr(SANDBOX_SECRET), SecretStr(SANDBOX_INTEGRATION_CODE),
        public=True,
    )  # fmt: skip
