"""An Autotask emulator at the HTTP boundary, for tests, benchmarks, demos and local mode."""

from __future__ import annotations

from pathlib import Path

from services.autotask.sandbox.seed import (
    SANDBOX_INTEGRATION_CODE,
    SANDBOX_SECRET,
    SANDBOX_USERNAME,
    build_tenant,
)
from services.autotask.sandbox.tenant import Tenant
from services.autotask.sandbox.transport import Fault, FaultyTransport, SandboxTransport

__all__ = [
    "SANDBOX_INTEGRATION_CODE",
    "SANDBOX_SECRET",
    "SANDBOX_USERNAME",
    "Fault",
    "FaultyTransport",
    "SandboxTransport",
    "Tenant",
    "build_tenant",
    "open_tenant",
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
