"""One company webhook per installation, found again, repaired, and reported as it really is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.autotask.client import AutotaskClient
from services.autotask.models import Parent
from services.autotask.sandbox import SandboxTransport, sandbox_credentials
from services.autotask.sandbox.schema_webhooks import COMPANY_WEBHOOK_FIELD_IDS
from services.reminders.webhooks import (
    WATCHED_FIELDS,
    CompanyWebhookRegistry,
    WebhookConfig,
    watched_fields,
)
from services.store import state
from services.store.db import Database
from tests.onboarding_support import reset_database, sqlite_database

CONFIG = WebhookConfig("https://onboard.invalid", SecretStr("s" * 32))
ALL_ITEMS = list(WATCHED_FIELDS)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with sqlite_database(tmp_path / "hooks.db") as database:
        yield database


def _registry(autotask: AutotaskClient, db: Database, items: list[str] = ALL_ITEMS,
              config: WebhookConfig = CONFIG) -> CompanyWebhookRegistry:  # fmt: skip
    return CompanyWebhookRegistry(client=autotask, db=db, config=config, items=items)


def _watched(sandbox: SandboxTransport, hook_id: int) -> set[str]:
    names = {v: k for k, v in COMPANY_WEBHOOK_FIELD_IDS.items()}
    rows = sandbox.tenant.table("CompanyWebhookFields").values()
    return {
        names[r["fieldID"]] for r in rows if r["webhookID"] == hook_id and r["isSubscribedField"]
    }


async def test_sync_creates_one_webhook_and_reuses_it_ever_after(
    autotask: AutotaskClient, sandbox: SandboxTransport, db: Database
) -> None:
    first = await _registry(autotask, db).sync()
    assert first.state == "ready" and first.actions[0] == "created"
    [hook] = sandbox.tenant.table("CompanyWebhooks").values()
    assert hook["webhookUrl"] == "https://onboard.invalid/autotask/webhooks/companies"
    assert hook["deactivationUrl"] == hook["webhookUrl"] + "/deactivated"
    assert hook["isActive"] and hook["isReady"] and hook["isSubscribedToUpdateEvents"]
    assert not hook["isSubscribedToCreateEvents"] and not hook["isSubscribedToDeleteEvents"]
    assert hook["secretKey"] == "s" * 32
    assert _watched(sandbox, hook["id"]) == set(watched_fields(ALL_ITEMS))

    sandbox.reset_log()
    again = await _registry(autotask, db).sync()  # a restart, another replica, `webhooks sync`
    assert len(sandbox.tenant.table("CompanyWebhooks")) == 1
    assert again.webhook_id == first.webhook_id and again.state == "ready"
    assert again.actions == []
    writes = [
        f"{c.method} {c.path}" for c in sandbox.calls if c.method != "POST" or "query" not in c.path
    ]
    # only the secret is set again (Autotask does not hand it back): nothing is created
    assert [w for w in writes if not w.startswith("GET")] == ["PATCH CompanyWebhooks"]
    async with db.transaction() as session:
        row = await state.webhook_state(session, name=CONFIG.name)
    assert row is not None and row.status == "ready" and row.webhook_id == first.webhook_id


async def test_sync_repairs_what_someone_changed_in_autotask_and_says_so(
    autotask: AutotaskClient, sandbox: SandboxTransport, db: Database
) -> None:
    report = await _registry(autotask, db).sync()
    hook_id = report.webhook_id
    assert hook_id is not None
    tenant = sandbox.tenant
    rows = tenant.table("CompanyWebhookFields")
    tax_row = next(i for i, r in rows.items() if r["fieldID"] == COMPANY_WEBHOOK_FIELD_IDS["taxID"])
    await autotask.delete(
        "CompanyWebhookFields", tax_row, parent=Parent("CompanyWebhooks", hook_id, "Fields")
    )
    await autotask.create("CompanyWebhookFields", {"fieldID": COMPANY_WEBHOOK_FIELD_IDS["companyName"],
                          "isSubscribedField": True}, parent=Parent("CompanyWebhooks", hook_id, "Fields"))  # fmt: skip
    await autotask.update(
        "CompanyWebhooks", hook_id, {"isActive": False, "webhookUrl": "https://old.invalid/x"}
    )
    assert (await _registry(autotask, db).inspect()).state == "deactivated"

    repaired = await _registry(autotask, db).sync()  # found by its name, URL restored
    assert repaired.webhook_id == hook_id and repaired.state == "ready"
    assert repaired.actions == ["reactivated", "updated isActive, webhookUrl", "subscribed taxID",
                                "removed 1 other field(s)"]  # fmt: skip
    assert _watched(sandbox, hook_id) == set(watched_fields(ALL_ITEMS))
    assert tenant.table("CompanyWebhooks")[hook_id]["isActive"] is True
    assert (await _registry(autotask, db).inspect()).state == "ready"


async def test_the_watched_fields_follow_reminder_items(
    autotask: AutotaskClient, sandbox: SandboxTransport, db: Database
) -> None:
    await _registry(autotask, db).sync()
    narrowed = await _registry(autotask, db, ["attention"]).sync()
    assert narrowed.fields == ["billToAttention"]
    assert narrowed.actions == [f"removed {len(watched_fields(ALL_ITEMS)) - 1} other field(s)"]
    assert narrowed.webhook_id is not None and _watched(sandbox, narrowed.webhook_id) == {
        "billToAttention"
    }


async def test_a_field_the_tenant_does_not_offer_is_reported_not_faked(
    autotask: AutotaskClient, sandbox: SandboxTransport, db: Database
) -> None:
    sandbox.tenant.webhook_fields_withheld = {"billToAttention", "taxID"}
    report = await _registry(autotask, db).sync()
    assert report.state == "partial" and report.unsupported == ["taxID", "billToAttention"]
    assert "not offered by this tenant: taxID, billToAttention" in report.describe()
    assert report.webhook_id is not None
    assert _watched(sandbox, report.webhook_id) == set(watched_fields(ALL_ITEMS)) - {
        "billToAttention",
        "taxID",
    }
    assert (await _registry(autotask, db).inspect()).state == "partial"


async def test_inspect_tells_missing_stale_and_not_configured_apart_without_writing(
    autotask: AutotaskClient, sandbox: SandboxTransport, db: Database
) -> None:
    none = CompanyWebhookRegistry(client=autotask, db=db, config=None, items=ALL_ITEMS)
    assert (await none.inspect()).state == "not configured"
    assert (await none.sync()).state == "not configured"
    assert (await _registry(autotask, db).inspect()).state == "missing"
    assert sandbox.tenant.table("CompanyWebhooks") == {}  # inspecting created nothing
    report = await _registry(autotask, db).sync()
    assert report.webhook_id is not None
    wider = _registry(autotask, db)
    wider.wanted = [*wider.wanted, "companyName"]  # e.g. REMINDER_ITEMS grew since the last sync
    sandbox.reset_log()
    assert (await wider.inspect()).state == "stale"
    assert {c.method for c in sandbox.calls} <= {"GET", "POST"}
    assert all(c.method == "GET" or c.path.endswith("/query") for c in sandbox.calls)


async def test_two_installations_on_one_tenant_keep_their_own_webhooks(
    autotask: AutotaskClient, sandbox: SandboxTransport, db: Database
) -> None:
    other = WebhookConfig("https://staging.invalid", SecretStr("t" * 32))
    assert other.name != CONFIG.name and len(CONFIG.name) <= 50
    a = await _registry(autotask, db).sync()
    b = await _registry(autotask, db, config=other).sync()
    assert a.webhook_id != b.webhook_id and len(sandbox.tenant.table("CompanyWebhooks")) == 2
    assert (await _registry(autotask, db).sync()).webhook_id == a.webhook_id


async def test_twins_left_by_someone_else_are_reported_and_our_oldest_is_kept(
    autotask: AutotaskClient, sandbox: SandboxTransport, db: Database
) -> None:
    first = await _registry(autotask, db).sync()
    twin = await autotask.create(
        "CompanyWebhooks", {**_registry(autotask, db)._desired(), "isActive": False}
    )
    report = await _registry(autotask, db).sync()
    assert report.webhook_id == first.webhook_id and report.duplicates == [twin]
    assert "other webhooks with our name or URL: " + str(twin) in report.describe()
    assert len(sandbox.tenant.table("CompanyWebhooks")) == 2  # reported, never deleted


async def _two_replicas_sync_at_once(url: str, sandbox: SandboxTransport) -> list[int | None]:
    """Two replicas (an engine and a client each) start together and both sync the webhook."""
    from services.store.engine import make_engine
    from services.store.migrate import upgrade

    await upgrade(url)
    sandbox.latency = 0.02  # each sync's reads take long enough for the other to start
    engines = [make_engine(url), make_engine(url)]
    try:
        async with (
            httpx.AsyncClient(transport=sandbox) as one,
            httpx.AsyncClient(transport=sandbox) as two,
        ):
            registries = [
                _registry(AutotaskClient(sandbox_credentials(), http_client=http), Database(e))
                for http, e in zip((one, two), engines, strict=True)
            ]
            reports = await asyncio.gather(*(r.sync() for r in registries))
    finally:
        for engine in engines:
            await engine.dispose()
    return [r.webhook_id for r in reports]


@pytest.mark.postgres
async def test_two_replicas_starting_together_on_postgresql_create_one_webhook(
    postgres_url: str, sandbox: SandboxTransport
) -> None:
    await reset_database(postgres_url)
    try:
        ids = await _two_replicas_sync_at_once(postgres_url, sandbox)
    finally:
        await reset_database(postgres_url)
    [hook] = sandbox.tenant.table("CompanyWebhooks").values()
    assert ids == [hook["id"], hook["id"]]
    fields = [r for r in sandbox.tenant.table("CompanyWebhookFields").values()
              if r["webhookID"] == hook["id"]]  # fmt: skip
    assert len(fields) == len({r["fieldID"] for r in fields}) == len(watched_fields(ALL_ITEMS))


async def test_two_syncs_at_once_in_one_process_on_sqlite_create_one_webhook(
    tmp_path: Path, sandbox: SandboxTransport
) -> None:
    ids = await _two_replicas_sync_at_once(f"sqlite+aiosqlite:///{tmp_path}/one.db", sandbox)
    [hook] = sandbox.tenant.table("CompanyWebhooks").values()
    assert ids == [hook["id"], hook["id"]]
