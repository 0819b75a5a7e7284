"""Async client for the Autotask PSA REST API.

Layers, outermost first:
    get / iter_query / count / create / update / delete / fields  -> one call each, typed results
    _request    zone resolution, one re-discovery after a 401, per-entity slot, retries
    _send_once  one HTTP exchange and the mapping of its failure to an error class
    httpx.AsyncClient (injected: the real network, or the sandbox transport in tests and local mode)

Reads page by id-walk (``id gt <last>``, 500 a page) and never follow ``nextPageUrl``: after a POST
query that URL must be re-POSTed with the body, and following it with GET silently truncates.
A create that fails with a 5xx or a transport error is never retried here, because Autotask has
no idempotency key: the caller looks the record up before trying again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import httpx

from services.autotask.errors import (
    AuthenticationError,
    AutotaskAPIError,
    AutotaskError,
    RateLimitedError,
    ServerError,
    TransportError,
    ZoneDiscoveryError,
    error_for_status,
)
from services.autotask.filters import MAX_PAGE_SIZE, Filter, Query, field
from services.autotask.health import Reachability
from services.autotask.limits import (
    CallSlots,
    EntityLimiter,
    RetryPolicy,
    Sleep,
    ThresholdMonitor,
    ThresholdReading,
)
from services.autotask.models import Entity, Parent
from services.autotask.zones import (
    ZONE_DISCOVERY_URL,
    AutotaskAuth,
    Credentials,
    Zone,
    is_autotask_host,
)

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Entity)
Json = dict[str, Any]
_IDEMPOTENT = frozenset({"get", "query", "count", "fields", "info", "update", "threshold"})


class CallHooks(Protocol):
    """What a caller may watch of one write's attempts (the onboarding run: its lease)."""

    async def before_send(self) -> None:
        """Called before every attempt, retries included; raise to send nothing more."""
        ...

    async def waiting(self, error: AutotaskError, delay: float) -> None:
        """Autotask refused or failed an attempt; the next one follows in ``delay`` seconds."""
        ...


class AutotaskClient:
    """One tenant's Autotask API, safe to share across every task of the process."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        http_client: httpx.AsyncClient,
        base_url: str | None = None,
        zone_discovery_url: str = ZONE_DISCOVERY_URL,
        zone_cache: dict[str, Zone] | None = None,
        limiter: CallSlots | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        threshold_refresh_seconds: float = 180.0,
    ) -> None:
        self.credentials = credentials
        self._http = http_client
        self._explicit_base = (
            base_url if base_url is None or base_url.endswith("/") else base_url + "/"
        )
        self._zone_url = zone_discovery_url
        self._zones = zone_cache if zone_cache is not None else {}
        self.limiter: CallSlots = limiter or EntityLimiter()
        self.retry = retry or RetryPolicy()
        self._sleep: Sleep = sleep or asyncio.sleep
        extra = httpx.URL(self._explicit_base).host if self._explicit_base else None
        self._auth = AutotaskAuth(credentials, extra_host=extra)
        self.threshold = ThresholdMonitor(
            self.read_threshold, refresh_seconds=threshold_refresh_seconds, sleep=self._sleep
        )
        self.reachability = Reachability()

    # ----- zone -------------------------------------------------------------------------------

    async def zone(self, *, refresh: bool = False) -> Zone:
        """The API user's zone, from zoneInformation, cached per user name."""
        if self._explicit_base:
            return Zone(
                name="configured", url=self._explicit_base.removesuffix("V1.0/"), web_url=""
            )
        cached = self._zones.get(self.credentials.username)
        if cached and not refresh:
            return cached
        try:
            zone = await self._discover()
        except ZoneDiscoveryError as exc:
            self.reachability.failed(exc)
            raise
        self.reachability.succeeded()
        self._zones[self.credentials.username] = zone
        logger.info(
            "Autotask zone for %s is %s (%s)", self.credentials.username, zone.name, zone.url
        )
        return zone

    async def _discover(self) -> Zone:
        try:
            response = await self._http.get(
                self._zone_url, params={"user": self.credentials.username}, auth=self._auth
            )
        except httpx.HTTPError as exc:
            raise ZoneDiscoveryError(
                f"Autotask zone discovery failed: {type(exc).__name__}", operation="zone"
            ) from None
        body = _json(response)
        url = body.get("url") if isinstance(body, dict) else None
        if response.status_code != 200 or not url:
            raise ZoneDiscoveryError(
                "Autotask has no zone for API user "
                f"{self.credentials.username!r} (HTTP {response.status_code}): check AUTOTASK_USERNAME",
                operation="zone",
            )
        if not is_autotask_host(url):
            raise ZoneDiscoveryError(
                f"zoneInformation pointed at {url!r}, which is not an Autotask host; refusing to "
                "send credentials there",
                operation="zone",
            )
        return Zone(
            name=str(body.get("zoneName", "")), url=url, web_url=str(body.get("webUrl", ""))
        )

    # ----- reads ------------------------------------------------------------------------------

    async def get(self, entity: str, id_: int) -> Json | None:
        """One record by id; ``None`` when Autotask says it does not exist (404 or item null)."""
        try:
            body = await self._request("GET", entity, f"{entity}/{id_}", operation="get")
        except AutotaskAPIError as exc:
            if exc.status == 404:
                return None
            raise
        item = body.get("item")
        return item if isinstance(item, dict) else None

    async def iter_query(
        self,
        entity: str,
        filters: Sequence[Filter] = (),
        *,
        include_fields: Sequence[str] = (),
        limit: int | None = None,
        bulk: bool = True,
    ) -> AsyncIterator[Json]:
        """Every matching record, once, in id order, 500 a page by id-walk."""
        fields = list(include_fields)
        if fields and "id" not in fields:
            fields.append("id")
        last_id: int | None = None
        seen = 0
        while True:
            page_filters = list(filters)
            if last_id is not None:
                page_filters.append(field("id").gt(last_id))
            size = MAX_PAGE_SIZE if limit is None else min(MAX_PAGE_SIZE, limit - seen)
            body = Query(page_filters, fields, size).to_json()
            if bulk and last_id is not None:
                await self.threshold.pace()
            page = await self._request(
                "POST", entity, f"{entity}/query", json=body, operation="query"
            )
            items = [i for i in page.get("items") or [] if isinstance(i, dict)]
            for item in sorted(items, key=lambda i: int(i["id"])):
                yield item
            seen += len(items)
            if len(items) < size or (limit is not None and seen >= limit):
                return
            last_id = max(int(i["id"]) for i in items)

    async def query(
        self,
        entity: str,
        filters: Sequence[Filter] = (),
        *,
        include_fields: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[Json]:
        return [
            item
            async for item in self.iter_query(
                entity, filters, include_fields=include_fields, limit=limit, bulk=False
            )
        ]

    async def count(self, entity: str, filters: Sequence[Filter] = ()) -> int:
        body = await self._request(
            "POST",
            entity,
            f"{entity}/query/count",
            json=Query(filters).to_json(),
            operation="count",
        )
        return int(body.get("queryCount", 0))

    async def entity_info(self, entity: str) -> Json:
        body = await self._request("GET", entity, f"{entity}/entityInformation", operation="info")
        info = body.get("info")
        return info if isinstance(info, dict) else {}

    async def fields(self, entity: str) -> list[Json]:
        """``entityInformation/fields``: types, lengths, required, read-only, picklists."""
        body = await self._request(
            "GET", entity, f"{entity}/entityInformation/fields", operation="fields"
        )
        return [f for f in body.get("fields") or [] if isinstance(f, dict)]

    async def read_threshold(self) -> ThresholdReading:
        body = await self._request(
            "GET", "ThresholdInformation", "ThresholdInformation", operation="threshold"
        )
        return ThresholdReading(
            limit=int(body.get("externalRequestThreshold") or 10_000),
            used=int(body.get("currentTimeframeRequestCount") or 0),
            timeframe_minutes=int(body.get("requestThresholdTimeframe") or 60),
            read_at=time.monotonic(),
        )

    async def pace(self) -> None:
        """Call between bulk writes: slows above 50 % of the hourly budget, pauses above 90 %."""
        await self.threshold.pace()

    # ----- typed reads ------------------------------------------------------------------------

    async def get_model(self, model: type[M], id_: int) -> M | None:
        item = await self.get(model.entity_name(), id_)
        return None if item is None else model.model_validate(item)

    async def iter_models(
        self, model: type[M], filters: Sequence[Filter] = (), *, limit: int | None = None
    ) -> AsyncIterator[M]:
        async for item in self.iter_query(model.entity_name(), filters, limit=limit):
            yield model.model_validate(item)

    async def query_models(
        self, model: type[M], filters: Sequence[Filter] = (), *, limit: int | None = None
    ) -> list[M]:
        items = await self.query(model.entity_name(), filters, limit=limit)
        return [model.model_validate(i) for i in items]

    # ----- writes -----------------------------------------------------------------------------

    async def create(
        self,
        entity: str,
        body: Mapping[str, Any],
        *,
        parent: Parent | None = None,
        impersonate: int | None = None,
        hooks: CallHooks | None = None,
    ) -> int:
        """Create a record and return its id. Never retried after a 5xx or a lost connection."""
        path = f"{parent.entity}/{parent.id}/{parent.path}" if parent else entity
        reply = await self._request(
            "POST", entity, path, json=dict(body), operation="create", impersonate=impersonate,
            hooks=hooks,
        )  # fmt: skip
        return int(reply["itemId"])

    async def update(
        self,
        entity: str,
        id_: int,
        changes: Mapping[str, Any],
        *,
        parent: Parent | None = None,
        impersonate: int | None = None,
        hooks: CallHooks | None = None,
    ) -> int:
        """PATCH only the given fields (PUT would blank every field not sent)."""
        path = f"{parent.entity}/{parent.id}/{parent.path}" if parent else entity
        reply = await self._request(
            "PATCH", entity, path, json={"id": id_, **changes}, operation="update",
            impersonate=impersonate, hooks=hooks,
        )  # fmt: skip
        return int(reply.get("itemId", id_))

    async def delete(
        self,
        entity: str,
        id_: int,
        *,
        parent: Parent | None = None,
        impersonate: int | None = None,
        hooks: CallHooks | None = None,
    ) -> None:
        path = f"{parent.entity}/{parent.id}/{parent.path}/{id_}" if parent else f"{entity}/{id_}"
        await self._request("DELETE", entity, path, operation="delete", impersonate=impersonate,
                            hooks=hooks)  # fmt: skip

    async def create_model(self, record: Entity, *, impersonate: int | None = None) -> int:
        return await self.create(
            record.entity_name(),
            record.to_api(),
            parent=record.parent_ref(),
            impersonate=impersonate,
        )

    async def update_model(self, record: Entity, *, impersonate: int | None = None) -> int:
        """PATCH the fields that were set on ``record`` (``exclude_unset``), nothing else."""
        if record.id is None:
            raise ValueError("update_model needs a record with an id")
        changes = record.to_api()
        changes.pop("id", None)
        return await self.update(
            record.entity_name(),
            record.id,
            changes,
            parent=record.parent_ref(),
            impersonate=impersonate,
        )

    # ----- the request pipeline ---------------------------------------------------------------

    async def _request(
        self,
        method: str,
        entity: str,
        path: str,
        *,
        operation: str,
        json: Json | None = None,
        impersonate: int | None = None,
        hooks: CallHooks | None = None,
    ) -> Json:
        rediscovered = False
        attempt = 0
        while True:
            zone = await self.zone()
            try:
                async with self.limiter.slot(entity):
                    if hooks is not None:  # last moment before sending: e.g. a lease check
                        await hooks.before_send()
                    return await self._send_once(
                        method,
                        zone.api_base + path,
                        entity=entity,
                        operation=operation,
                        json=json,
                        impersonate=impersonate,
                    )
            except AuthenticationError:
                # The tenant may have moved zones; discover once more, then give up.
                if rediscovered or self._explicit_base:
                    raise
                rediscovered = True
                logger.warning(
                    "Autotask refused credentials on %s; re-discovering the zone", zone.name
                )
                await self.zone(refresh=True)
                continue
            except RateLimitedError as exc:
                if attempt >= self.retry.max_retries:
                    raise
                delay = self.retry.delay(attempt, exc.retry_after)
                failed: AutotaskError = exc
            except (ServerError, TransportError) as exc:
                if operation not in _IDEMPOTENT or attempt >= self.retry.max_retries:
                    raise
                delay = self.retry.delay(attempt, getattr(exc, "retry_after", None))
                failed = exc
            if hooks is not None:
                await hooks.waiting(failed, delay)
            attempt += 1
            logger.info("Autotask %s %s: retry %d in %.2f s", operation, entity, attempt, delay)
            await self._sleep(delay)

    async def _send_once(
        self,
        method: str,
        url: str,
        *,
        entity: str,
        operation: str,
        json: Json | None,
        impersonate: int | None,
    ) -> Json:
        headers = {"ImpersonationResourceId": str(impersonate)} if impersonate else {}
        started = time.monotonic()
        try:
            response = await self._http.request(
                method, url, json=json, headers=headers, auth=self._auth
            )
        except httpx.HTTPError as exc:
            # The exception text can echo the URL but never the headers; keep only the class.
            lost = TransportError(
                f"Autotask {operation} on {entity}: {type(exc).__name__}",
                entity=entity,
                operation=operation,
            )
            self.reachability.failed(lost)
            raise lost from None
        logger.debug("Autotask %s %s -> HTTP %d in %.0f ms", operation, entity,
                     response.status_code, (time.monotonic() - started) * 1000)  # fmt: skip
        body = _json(response)
        if response.status_code == 200:
            self.reachability.succeeded()
            return body if isinstance(body, dict) else {}
        errors = body.get("errors") if isinstance(body, dict) else None
        texts = [str(e) for e in errors] if isinstance(errors, list) else []
        if not texts and isinstance(body, dict) and body.get("message"):
            texts = [str(body["message"])]
        logger.info("Autotask %s %s -> HTTP %d %s", operation, entity, response.status_code, texts)
        error = error_for_status(
            status=response.status_code,
            entity=entity,
            operation=operation,
            errors=texts,
            retry_after=_retry_after(response),
        )
        self.reachability.failed(error)
        raise error


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
