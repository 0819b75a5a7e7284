"""Company webhooks in the sandbox: Autotask's callouts, signed, delivered from the background.

What Autotask documents, and the sandbox therefore does (sources in docs/autotask-facts.md):

- a webhook calls out when a Companies field it subscribes to (a ``CompanyWebhookFields`` row with
  ``isSubscribedField``) changes, for the event types it subscribes to, only while it is active and
  has such a field (``isReady``); changes made by one of its ``CompanyWebhookExcludedResources``
  do not call out; display-always fields ride along in the payload;
- the callout is an HTTP POST of a JSON payload ``{Action, Guid, EntityType, Id, Fields,
  EventTime, SequenceNumber, PersonID}`` with ``X-Hook-Signature: sha1=<base64 HMAC-SHA1 of the
  body under the webhook's secretKey>``; the body is written the way a .NET serializer escapes
  JSON (``&``, ``<``, ``+``, quotes, non-ASCII as ``\\uXXXX``), so only a receiver that verifies
  the raw bytes, not a re-serialised parse, gets the signature right;
- delivery: a 2xx answer is success; an attempt times out after 10 s; a failed payload is sent
  again 30 s later, 5 attempts in all; payloads of one webhook go out in order; after 25
  consecutive undeliverable payloads the webhook is deactivated;
- the deactivation URL is called when a webhook is deactivated or deleted.

Deliveries never run inside the write that triggered them: the tenant's listener only queues
them, and a background task per webhook posts them. ``admin_edit`` simulates a person changing a
company in Autotask's web UI (same rules as the API, attributed to that person).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import threading
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from services.autotask.sandbox.schema_webhooks import COMPANY_WEBHOOK_FIELD_IDS
from services.autotask.sandbox.tenant import Change, Tenant

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hook-Signature"
FIELD_NAMES = {value: name for name, value in COMPANY_WEBHOOK_FIELD_IDS.items()}
_SUBSCRIPTIONS = {
    "Create": "isSubscribedToCreateEvents",
    "Update": "isSubscribedToUpdateEvents",
    "Delete": "isSubscribedToDeleteEvents",
}
# .NET's default JSON encoder escapes these inside strings (as n8n-nodes-autotask reproduces)
_ESCAPES = {"&": "\\u0026", "<": "\\u003C", ">": "\\u003E", "'": "\\u0027", '"': "\\u0022",
            "`": "\\u0060", "+": "\\u002B", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}  # fmt: skip


def autotask_json(value: Any) -> bytes:
    """Compact JSON, escaped as Autotask's serializer writes it (see the module docstring)."""
    return _encode(value).encode("ascii")


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hook-Signature`` value Autotask sends: ``sha1=`` and the base64 HMAC-SHA1."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()
    return "sha1=" + base64.b64encode(digest).decode("ascii")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_string(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


def _string(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            out.append(char)
        else:  # control characters and everything beyond ASCII, as UTF-16 code units
            units = char.encode("utf-16-be")
            out.extend(f"\\u{units[i : i + 2].hex().upper()}" for i in range(0, len(units), 2))
    return '"' + "".join(out) + '"'


@dataclass
class Delivery:
    """One payload for one URL, and what happened to each attempt (HTTP status or error name)."""

    webhook_id: int
    kind: str  # "callout" or "deactivation"
    url: str
    body: bytes
    signature: str
    attempts: list[int | str] = field(default_factory=list)
    delivered: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookEmitter:
    """The callouts of one sandbox tenant. One per tenant: ``WebhookEmitter.of(tenant)``."""

    _registry: ClassVar[weakref.WeakKeyDictionary[Tenant, WebhookEmitter]] = (
        weakref.WeakKeyDictionary()
    )
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        tenant: Tenant,
        *,
        timeout: float = 10.0,
        retry_delay: float = 30.0,
        attempts: int = 5,
        disable_after: int = 25,
    ) -> None:
        self.tenant = tenant
        self.timeout, self.retry_delay, self.attempts = timeout, retry_delay, attempts
        self.disable_after = disable_after
        self.deliveries: list[Delivery] = []
        self.failed: list[Delivery] = []  # what Autotask's webhook error log would show
        self._queues: dict[tuple[str, int], deque[Delivery]] = {}
        self._workers: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._sequence: dict[int, itertools.count[int]] = {}
        self._consecutive_failures: dict[int, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None
        tenant.listeners.append(self._on_change)

    @classmethod
    def of(cls, tenant: Tenant) -> WebhookEmitter:
        with cls._registry_lock:
            emitter = cls._registry.get(tenant)
            if emitter is None:
                emitter = cls._registry[tenant] = cls(tenant)
            return emitter

    # ----- what tests and the sandbox server can do -------------------------------------------

    def admin_edit(self, company_id: int, changes: Mapping[str, Any], *, resource_id: int) -> None:
        """A person saves the company in Autotask's web UI: Autotask's rules, then the callouts."""
        resource = self.tenant.table("Resources").get(resource_id)
        if resource is None or not resource.get("isActive"):
            raise ValueError(f"resource {resource_id} cannot log in to Autotask")
        self.tenant.update("Companies", {"id": company_id, **changes}, actor=resource_id)

    def deactivate(self, webhook_id: int) -> None:
        """Deactivate a webhook as Autotask does after failed deliveries; its deactivation URL
        is then notified."""
        self.tenant.update("CompanyWebhooks", {"id": webhook_id, "isActive": False})

    async def drain(self) -> None:
        """Wait until every queued delivery has been attempted to the end (bound it with
        ``asyncio.timeout``)."""
        while busy := [t for t in self._workers.values() if not t.done()]:
            await asyncio.wait(busy)

    async def aclose(self) -> None:
        workers = [t for t in self._workers.values() if not t.done()]
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ----- the tenant's listener (runs inside the write, so it only queues) --------------------

    def _on_change(self, change: Change) -> None:
        if change.entity == "Companies":
            for hook in list(self.tenant.table("CompanyWebhooks").values()):
                delivery = self._callout(hook, change)
                if delivery is not None:
                    self._enqueue(("callout", int(hook["id"])), delivery)
        elif change.entity == "CompanyWebhooks":
            was_active = bool(change.before.get("isActive"))
            gone = change.action == "Delete" or not change.after.get("isActive")
            if was_active and gone:
                hook = change.before if change.action == "Delete" else change.after
                self._enqueue(("deactivation", int(hook["id"])), self._notice(hook))

    def _callout(self, hook: dict[str, Any], change: Change) -> Delivery | None:
        subscription = _SUBSCRIPTIONS.get(change.action)
        if not hook.get("isActive") or not subscription or not hook.get(subscription):
            return None
        hook_id = int(hook["id"])
        rows = [
            r
            for r in self.tenant.table("CompanyWebhookFields").values()
            if r["webhookID"] == hook_id
        ]
        watched = [FIELD_NAMES[r["fieldID"]] for r in rows if r.get("isSubscribedField")]
        always = [FIELD_NAMES[r["fieldID"]] for r in rows if r.get("isDisplayAlwaysField")]
        excluded = {
            r["resourceID"]
            for r in self.tenant.table("CompanyWebhookExcludedResources").values()
            if r["webhookID"] == hook_id
        }
        if not watched or change.actor in excluded:
            return None
        record = change.after or change.before
        changed = [n for n in watched if change.before.get(n) != change.after.get(n)]
        if change.action == "Update" and not changed:
            return None
        shown = dict.fromkeys([*changed, *always])
        payload = {
            "Action": change.action,
            "Guid": hook.get("webhookGUID"),
            "EntityType": "Company",
            "Id": record["id"],
            "Fields": {name: record.get(name) for name in shown},
            "EventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SequenceNumber": next(self._sequence.setdefault(hook_id, itertools.count(1))),
            "PersonID": change.actor,
        }
        body = autotask_json(payload)
        return Delivery(hook_id, "callout", hook["webhookUrl"], body, sign(hook["secretKey"], body))

    def _notice(self, hook: dict[str, Any]) -> Delivery:
        # Autotask does not document this body; the sandbox sends the callout's shape, signed.
        body = autotask_json({
            "Action": "Deactivated", "Guid": hook.get("webhookGUID"), "EntityType": "CompanyWebhook",
            "Id": hook["id"], "EventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        })  # fmt: skip
        return Delivery(
            int(hook["id"]), "deactivation", hook["deactivationUrl"], body,
            sign(hook["secretKey"], body),
        )  # fmt: skip

    def _enqueue(self, key: tuple[str, int], delivery: Delivery) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            self._start(key, delivery)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._start, key, delivery)
        else:
            logger.warning("sandbox webhook %s: no event loop to deliver from; dropped", key[1])

    def _start(self, key: tuple[str, int], delivery: Delivery) -> None:
        self._queues.setdefault(key, deque()).append(delivery)
        worker = self._workers.get(key)
        if worker is None or worker.done():
            self._workers[key] = asyncio.get_running_loop().create_task(self._work(key))

    # ----- delivery --------------------------------------------------------------------------

    async def _work(self, key: tuple[str, int]) -> None:
        queue = self._queues[key]
        while queue:
            delivery = queue[0]
            self.deliveries.append(delivery)
            delivered = await self._deliver(delivery)
            queue.popleft()
            if delivery.kind == "callout":
                self._count(delivery.webhook_id, delivered)

    async def _deliver(self, delivery: Delivery) -> bool:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: delivery.signature}
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay)
            try:
                response = await self._http.post(
                    delivery.url, content=delivery.body, headers=headers, timeout=self.timeout
                )
                delivery.attempts.append(response.status_code)
                if 200 <= response.status_code < 300:
                    delivery.delivered = True
                    return True
            except httpx.HTTPError as exc:
                delivery.attempts.append(type(exc).__name__)
        self.failed.append(delivery)
        logger.info("sandbox webhook %s: gave up on a %s to %s after %s",
                    delivery.webhook_id, delivery.kind, delivery.url, delivery.attempts)  # fmt: skip
        return False

    def _count(self, webhook_id: int, delivered: bool) -> None:
        failures = 0 if delivered else self._consecutive_failures.get(webhook_id, 0) + 1
        self._consecutive_failures[webhook_id] = failures
        hook = self.tenant.table("CompanyWebhooks").get(webhook_id)
        if failures >= self.disable_after and hook is not None and hook.get("isActive"):
            logger.warning("sandbox webhook %s: %s payloads in a row undelivered; deactivating",
                           webhook_id, failures)  # fmt: skip
            self.deactivate(webhook_id)
