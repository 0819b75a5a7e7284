"""The sandbox's company webhooks behave as Autotask documents them (docs/autotask-facts.md)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.autotask.client import AutotaskClient
from services.autotask.models import Parent
from services.autotask.sandbox import SandboxTransport
from services.autotask.sandbox.schema_webhooks import COMPANY_WEBHOOK_FIELD_IDS
from services.autotask.sandbox.webhooks import autotask_json
from tests.onboarding_support import company_id, resource_id

SECRET = "a-shared-secret-of-32-characters"


@dataclass
class Receiver:
    """A webhook URL that records what reaches it and answers with the status it is told."""

    url: str = ""
    status: int = 200
    hits: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def bodies(self, path: str = "/hook") -> list[dict[str, object]]:
        return [json.loads(body) for p, body, _ in self.hits if p == path]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()

    async def record(request: web.Request) -> web.Response:
        found.hits.append((request.path, await request.read(), dict(request.headers)))
        return web.Response(status=found.status)

    app = web.Application()
    app.router.add_post("/hook", record)
    app.router.add_post("/gone", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found.url = f"http://127.0.0.1:{server.port}"
    yield found
    await server.close()


async def _webhook(
    autotask: AutotaskClient, receiver: Receiver, fields: list[str], **overrides: object
) -> int:
    hook_id = await autotask.create("CompanyWebhooks", {
        "name": "test hook", "webhookUrl": receiver.url + "/hook",
        "deactivationUrl": receiver.url + "/gone", "secretKey": SECRET, "isActive": True,
        "isSubscribedToUpdateEvents": True, "sendThresholdExceededNotification": False,
        **overrides,
    })  # fmt: skip
    for name in fields:
        await autotask.create("CompanyWebhookFields", {
            "webhookID": hook_id, "fieldID": COMPANY_WEBHOOK_FIELD_IDS[name], "isSubscribedField": True,
        }, parent=Parent("CompanyWebhooks", hook_id, "Fields"))  # fmt: skip
    return hook_id


async def test_a_watched_field_change_is_posted_signed_over_the_raw_body(
    autotask: AutotaskClient, sandbox: SandboxTransport, receiver: Receiver
) -> None:
    hook_id = await _webhook(autotask, receiver, ["billToAttention"])
    acme = company_id(sandbox.tenant, "Acme Dental")
    await autotask.update("Companies", acme, {"billToAttention": "Zoë & Co + <Billing>"})
    await asyncio.wait_for(sandbox.webhooks.drain(), 10)

    [(_path, body, headers)] = receiver.hits
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha1).digest()).decode()
    assert headers["X-Hook-Signature"] == f"sha1={expected}"
    assert headers["Content-Type"] == "application/json"
    # .NET-style escaping: the signature covers these bytes, not a re-serialised parse
    assert b"Zo\\u00EB \\u0026 Co \\u002B \\u003CBilling\\u003E" in body
    payload = json.loads(body)
    assert payload["Action"] == "Update" and payload["EntityType"] == "Company"
    assert payload["Id"] == acme and payload["Fields"] == {
        "billToAttention": "Zoë & Co + <Billing>"
    }
    hook = await autotask.get("CompanyWebhooks", hook_id)
    assert hook is not None and payload["Guid"] == hook["webhookGUID"]
    assert (
        payload["PersonID"]
        == sandbox.tenant.api_users["onboarding-bot@brightline-it.example"].resource_id
    )
    assert "secretKey" not in hook and hook["isReady"] is True
    assert json.dumps(payload) != body.decode()  # a re-serialised body would not verify


async def test_unwatched_changes_excluded_people_and_inactive_webhooks_stay_silent(
    autotask: AutotaskClient, sandbox: SandboxTransport, receiver: Receiver
) -> None:
    tenant = sandbox.tenant
    hook_id = await _webhook(autotask, receiver, ["taxID"])
    beatriz = resource_id(tenant, "Beatriz", "Lima")
    tom = resource_id(tenant, "Tom", "Keller")
    await autotask.create("CompanyWebhookExcludedResources", {"resourceID": tom},
                          parent=Parent("CompanyWebhooks", hook_id, "ExcludedResources"))  # fmt: skip
    acme = company_id(tenant, "Acme Dental")
    await autotask.update("Companies", acme, {"phone": "555-0100"})  # not watched
    sandbox.webhooks.admin_edit(acme, {"taxID": "74-7654321"}, resource_id=tom)  # excluded
    sandbox.webhooks.admin_edit(acme, {"taxID": "74-7654321"}, resource_id=beatriz)  # no change
    await asyncio.wait_for(sandbox.webhooks.drain(), 10)
    assert receiver.hits == []

    sandbox.webhooks.admin_edit(acme, {"taxID": "74-1111111"}, resource_id=beatriz)
    await asyncio.wait_for(sandbox.webhooks.drain(), 10)
    [payload] = receiver.bodies()
    assert payload["PersonID"] == beatriz and payload["Fields"] == {"taxID": "74-1111111"}

    await autotask.update("CompanyWebhooks", hook_id, {"isActive": False})
    sandbox.webhooks.admin_edit(acme, {"taxID": "74-2222222"}, resource_id=beatriz)
    await asyncio.wait_for(sandbox.webhooks.drain(), 10)
    assert len(receiver.bodies()) == 1
    assert [b["Action"] for b in receiver.bodies("/gone")] == ["Deactivated"]  # the notice


async def test_failed_deliveries_are_retried_then_the_webhook_is_deactivated(
    autotask: AutotaskClient, sandbox: SandboxTransport, receiver: Receiver
) -> None:
    emitter = sandbox.webhooks
    emitter.retry_delay, emitter.disable_after = 0.01, 3
    hook_id = await _webhook(autotask, receiver, ["taxID"])
    receiver.status = 503
    acme = company_id(sandbox.tenant, "Acme Dental")
    for n in range(3):
        await autotask.update("Companies", acme, {"taxID": f"74-000000{n}"})
    await asyncio.wait_for(emitter.drain(), 10)
    callouts = [d for d in emitter.deliveries if d.kind == "callout"]
    assert [d.attempts for d in callouts] == [[503] * 5] * 3  # 5 attempts each, in order
    assert [d.payload["SequenceNumber"] for d in callouts] == [1, 2, 3]
    hook = await autotask.get("CompanyWebhooks", hook_id)
    assert hook is not None and hook["isActive"] is False and hook["isReady"] is False
    [notice] = [d for d in emitter.deliveries if d.kind == "deactivation"]
    assert notice.payload["Action"] == "Deactivated" and notice.url == receiver.url + "/gone"
    assert notice.attempts == [503] * 5  # the notice is retried like a callout


async def test_deleting_a_webhook_notifies_its_deactivation_url_and_drops_its_fields(
    autotask: AutotaskClient, sandbox: SandboxTransport, receiver: Receiver
) -> None:
    hook_id = await _webhook(autotask, receiver, ["taxID", "billToAttention"])
    await autotask.delete("CompanyWebhooks", hook_id)
    await asyncio.wait_for(sandbox.webhooks.drain(), 10)
    assert [b["Id"] for b in receiver.bodies("/gone")] == [hook_id]
    assert sandbox.tenant.table("CompanyWebhookFields") == {}


def test_json_is_escaped_as_autotasks_serializer_does() -> None:
    assert autotask_json({"a": "x&y'\"é😀", "b": [1, True, None]}) == (
        b'{"a":"x\\u0026y\\u0027\\u0022\\u00E9\\uD83D\\uDE00","b":[1,true,null]}'
    )
