"""The sandbox as an httpx transport: Autotask's URLs, headers, limits and errors, in-process.

The real ``AutotaskClient`` talks to it exactly as to Autotask, so everything above the wire
(zone discovery, paging, retries, error mapping) is exercised. Switches for tests and benchmarks:
``latency`` (seconds per call, held while "in flight"), ``fail_next`` (scripted failures, before or
after the write lands), ``random_faults`` (a share of all calls fail, each as one of
``FAULT_KINDS``), ``thread_limit`` and ``hourly_limit``, and a call log per endpoint.

``peak_in_flight`` is the most calls Autotask accepted at once per entity; ``peak_arrived`` counts
the calls that arrived, rejected ones included, so it shows what the clients (every replica
together) sent, even where the thread limit turned some away.

Company webhooks: the tenant's ``CompanyWebhooks`` call out when a watched company field changes,
from a background task (``sandbox/webhooks.py``; ``transport.webhooks`` drains or deactivates them).

``add_observer`` registers a process-wide callback that sees every request any sandbox transport
receives (zone discovery included) with the reply it got: conformance checks use it to hold the
client to Autotask's published API, whichever test or harness built the transport.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.autotask.sandbox.errors import SandboxError
from services.autotask.sandbox.rules import API_ONLY_LICENSE
from services.autotask.sandbox.schema import CHILD_PATHS
from services.autotask.sandbox.tenant import Tenant, spec_for
from services.autotask.sandbox.webhooks import WebhookEmitter

PAGE_SIZE = 500
THREAD_LIMIT_TEXT = (
    "Thread Threshold Exceeded — The Autotask API thread threshold of {n} threads has been "
    "exceeded. (Itgenatr005)"
)
HOURLY_LIMIT_TEXT = (
    "The API request threshold of {n} requests per 60 minutes has been exceeded for this database."
)
_NO_METHOD = "The requested resource does not support this HTTP method."
_API_PATH = re.compile(r"^/atservicesrest/v1\.0/(?P<rest>.*)$", re.IGNORECASE)

Observer = Callable[[httpx.Request, httpx.Response | None], None]
_OBSERVERS: list[Observer] = []


def add_observer(observer: Observer) -> None:
    """See every request every sandbox transport of this process receives, and its reply.

    The reply is ``None`` when the transport raised instead (an injected timeout).
    """
    _OBSERVERS.append(observer)


def remove_observer(observer: Observer) -> None:
    _OBSERVERS.remove(observer)


@dataclass
class Call:
    method: str
    path: str
    entity: str
    status: int
    impersonation: int | None = None
    body: Any = None


@dataclass
class Fault:
    """A scripted failure for the next matching call.

    ``after_write`` lets the call land and then loses the reply, as when a connection drops
    after Autotask committed: the case that makes blind create-retries duplicate records.
    """

    status: int = 500
    errors: list[str] = field(
        default_factory=lambda: ["An unexpected error has occurred. Error ID: 4711"]
    )
    entity: str | None = None
    method: str | None = None
    timeout: bool = False
    after_write: bool = False
    path: str | None = None  # e.g. "Contracts" hits the create, not "Contracts/query"
    body: bool = True  # False: a bare status with no body at all, as a proxy in front answers

    def matches(self, method: str, entity: str, path: str = "") -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.entity is None or self.entity.lower() == entity.lower())
            and (self.path is None or self.path.lower() == path.lower())
        )


FAULT_KINDS = ("thread_limit", "threshold", "500_no_body", "timeout", "answer_lost")


@dataclass
class RandomFaults:
    """About ``rate`` of the API calls fail, evenly among ``FAULT_KINDS``: the thread limit
    (429 Itgenatr005), the hourly threshold (429), a 500 with no body, a timeout before the call
    lands, and a write that lands but whose answer is lost (a bare 500 after the commit; on a read,
    which lands nothing, it is a 500 with no body). ``injected`` counts them by kind."""

    rate: float
    seed: int = 7
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self, method: str, path: str) -> Fault | None:
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(FAULT_KINDS)
        if kind == "answer_lost" and not _is_write(method, path):
            kind = "500_no_body"
        self.injected[kind] += 1
        if kind == "thread_limit":
            return Fault(429, [THREAD_LIMIT_TEXT.format(n=3)])
        if kind == "threshold":
            return Fault(429, [HOURLY_LIMIT_TEXT.format(n=10_000)])
        if kind == "timeout":
            return Fault(timeout=True)
        return Fault(500, [], body=False, after_write=kind == "answer_lost")


class SandboxTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        tenant: Tenant,
        *,
        latency: float = 0.0,
        thread_limit: int = 3,
        hourly_limit: int = 10_000,
        enforce_zone_host: bool = True,
        clock: Callable[[], float] = time.monotonic,
        fault_rate: float = 0.0,
        fault_seed: int = 7,
    ) -> None:
        self.tenant = tenant
        self.latency = latency
        self._fault_seed = fault_seed
        self.thread_limit = thread_limit
        self.hourly_limit = hourly_limit
        self.enforce_zone_host = enforce_zone_host
        self._clock = clock
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.random_faults: RandomFaults | None = None
        self.fault_rate = fault_rate
        self.in_flight: dict[str, int] = defaultdict(int)
        self.peak_in_flight: dict[str, int] = defaultdict(int)
        self.arrived: dict[str, int] = defaultdict(int)
        self.peak_arrived: dict[str, int] = defaultdict(int)
        self.thread_limit_rejections = 0
        self._hour: deque[float] = deque()
        self.on_call: Callable[[Call], None] | None = None
        # the tenant's company webhooks, posted from the background (one emitter per tenant)
        self.webhooks = WebhookEmitter.of(tenant)

    # ----- switches ---------------------------------------------------------------------------

    @property
    def fault_rate(self) -> float:
        return self.random_faults.rate if self.random_faults else 0.0

    @fault_rate.setter
    def fault_rate(self, rate: float) -> None:
        self.random_faults = RandomFaults(rate, self._fault_seed) if rate else None

    @property
    def injected(self) -> Counter[str]:
        return self.random_faults.injected if self.random_faults else Counter()

    def fail_next(self, fault: Fault | None = None, *, count: int = 1) -> None:
        self.faults.extend([fault or Fault()] * count)

    def calls_by_endpoint(self) -> Counter[str]:
        return Counter(f"{c.method} {c.entity}" for c in self.calls)

    def reset_log(self) -> None:
        self.calls.clear()
        self.peak_in_flight.clear()
        self.peak_arrived.clear()
        self.injected.clear()
        self.thread_limit_rejections = 0

    def stats(self) -> dict[str, Any]:
        """What the sandbox saw since the last ``reset_log``: peaks per entity, faults, calls."""
        writes = [c for c in self.calls if _is_write(c.method, c.path)]
        return {
            "calls": len(self.calls),
            "writes": len(writes),
            "peak_in_flight": dict(sorted(self.peak_in_flight.items())),
            "peak_arrived": dict(sorted(self.peak_arrived.items())),
            "thread_limit_rejections": self.thread_limit_rejections,
            "injected": dict(sorted(self.injected.items())),
        }

    @property
    def requests_this_hour(self) -> int:
        self._expire()
        return len(self._hour)

    def use_requests(self, n: int) -> None:
        """Pretend other integrations of the tenant already spent ``n`` calls this hour."""
        now = self._clock()
        self._hour.extend([now] * n)

    async def aclose(self) -> None:
        """Stop delivering webhooks (an ``httpx.AsyncClient`` closes its transport on exit)."""
        await self.webhooks.aclose()

    # ----- the wire ---------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response | None = None
        try:
            response = await self._handle(request)
            return response
        finally:
            for observer in list(_OBSERVERS):
                observer(request, response)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        method = request.method.upper()
        path = request.url.path
        if path.lower().endswith("/zoneinformation") and method == "GET":
            return self._zone_information(request)

        match = _API_PATH.match(path)
        if not match:
            return _reply(404, {"errors": [f"No HTTP resource was found that matches {path}."]})
        rest = match.group("rest").strip("/")
        entity = _bucket(rest)
        call = Call(method, rest, entity, 0, body=body)
        try:
            impersonation, actor = self._authenticate(request)
            call.impersonation = impersonation
            self._count_hourly()
            key = f"{request.headers.get('ApiIntegrationCode', '')}|{entity.lower()}"
            self.arrived[key] += 1
            try:
                self.peak_arrived[entity] = max(self.peak_arrived[entity], self.arrived[key])
                if self.in_flight[key] >= self.thread_limit:
                    self.thread_limit_rejections += 1
                    raise SandboxError(429, [THREAD_LIMIT_TEXT.format(n=self.thread_limit)])
                status, payload = await self._in_flight(key, entity, method, rest, body, request,
                                                        actor)  # fmt: skip
            finally:
                self.arrived[key] -= 1
        except SandboxError as exc:
            call.status = exc.status
            self._log(call)
            if not exc.body:
                return httpx.Response(exc.status, headers=exc.headers)
            return _reply(exc.status, {"errors": exc.errors}, exc.headers)
        call.status = status
        self._log(call)
        return _reply(status, payload)

    async def _in_flight(
        self, key: str, entity: str, method: str, rest: str, body: Any, request: httpx.Request,
        actor: int,
    ) -> tuple[int, Any]:  # fmt: skip
        """One accepted call, holding a thread of ``key`` for its latency."""
        self.in_flight[key] += 1
        self.peak_in_flight[entity] = max(self.peak_in_flight[entity], self.in_flight[key])
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            fault = self._take_fault(method, entity, rest) or self._random_fault(method, rest)
            if fault and not fault.after_write:
                raise _fault_error(fault, request)
            status, payload = self._route(method, rest, body, request, actor)
            if fault:
                raise _fault_error(fault, request)
            return status, payload
        finally:
            self.in_flight[key] -= 1

    def _log(self, call: Call) -> None:
        self.calls.append(call)
        if self.on_call:
            self.on_call(call)

    def _take_fault(self, method: str, entity: str, path: str) -> Fault | None:
        for i, fault in enumerate(self.faults):
            if fault.matches(method, entity, path):
                return self.faults.pop(i)
        return None

    def _random_fault(self, method: str, path: str) -> Fault | None:
        return self.random_faults.draw(method, path) if self.random_faults else None

    def _zone_information(self, request: httpx.Request) -> httpx.Response:
        user = (request.url.params.get("user") or "").lower()
        if user not in self.tenant.api_users:
            return _reply(
                500, {"errors": [f"Zone information could not be found for user {user}."]}
            )
        if self.enforce_zone_host:
            n = self.tenant.zone_number
            url, web = (
                f"https://webservices{n}.autotask.net/ATServicesRest/",
                f"https://ww{n}.autotask.net/",
            )
        else:
            url = web = f"{request.url.scheme}://{request.url.netloc.decode()}/ATServicesRest/"
        return _reply(
            200,
            {"zoneName": f"AE{self.tenant.zone_number:02d}", "url": url, "webUrl": web, "ci": 3},
        )

    def _authenticate(self, request: httpx.Request) -> tuple[int | None, int]:
        """(impersonated resource, the resource the write is attributed to)."""
        headers = request.headers
        user = self.tenant.api_users.get(headers.get("UserName", "").lower())
        ok = (
            user is not None
            and headers.get("Secret") == user.secret
            and headers.get("ApiIntegrationCode") == user.integration_code
        )
        if (
            self.enforce_zone_host
            and request.url.host != f"webservices{self.tenant.zone_number}.autotask.net"
        ):
            ok = False  # the database lives in another zone now
        if not ok:
            raise SandboxError(
                401, ["Unauthorized: the API user, secret or integration code is invalid."]
            )
        assert user is not None
        raw = headers.get("ImpersonationResourceId")
        if raw is None:
            return None, user.resource_id
        resource = self.tenant.table("Resources").get(int(raw))
        if (
            resource is None
            or not resource.get("isActive")
            or resource.get("licenseType") == API_ONLY_LICENSE
        ):
            raise SandboxError(500, [f"Resource {raw} cannot be impersonated."])
        return int(raw), int(raw)

    def _count_hourly(self) -> None:
        self._expire()
        if len(self._hour) >= self.hourly_limit:
            raise SandboxError(429, [HOURLY_LIMIT_TEXT.format(n=self.hourly_limit)])
        self._hour.append(self._clock())

    def _expire(self) -> None:
        horizon = self._clock() - 3600
        while self._hour and self._hour[0] <= horizon:
            self._hour.popleft()

    # ----- routing ----------------------------------------------------------------------------

    def _route(
        self, method: str, rest: str, body: Any, request: httpx.Request, actor: int
    ) -> tuple[int, Any]:
        parts = rest.split("/")
        head = parts[0]
        t = self.tenant
        if head.lower() == "thresholdinformation" and method == "GET":
            return 200, {
                "externalRequestThreshold": self.hourly_limit,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": len(self._hour),
            }
        if len(parts) >= 2 and parts[1].lower() == "entityinformation" and method == "GET":
            spec = spec_for(head)
            if len(parts) == 2:
                return 200, {"info": spec.info()}
            if parts[2].lower() == "fields":
                return 200, {"fields": t.field_info(spec.name)}
        if len(parts) >= 2 and parts[1].lower() == "query":
            return self._query(method, head, parts[2:], body, request)
        if len(parts) == 1:
            if method == "POST" and head.lower() == "contractserviceadjustments":
                # Documented at the root too; the contract comes from the body then.
                adjustment = _obj(body)
                return 200, {"itemId": t.adjust_service_units(_contract_of(adjustment), adjustment)}
            if method == "POST":
                return 200, {"itemId": t.create(head, _obj(body), actor=actor)}
            if method == "PATCH":
                return 200, {"itemId": t.update(head, _obj(body), actor=actor)}
            if method == "PUT":
                return 200, {"itemId": t.update(head, _replace_all(head, _obj(body)), actor=actor)}
        if len(parts) == 2 and parts[1].isdigit():
            spec = spec_for(head)
            if method == "GET" and spec.can_query:
                return 200, {"item": t.get(head, int(parts[1]))}
            # children are deleted under their parent's URL only
            if method == "DELETE" and spec.parent is None:
                return 200, {"itemId": t.delete(head, int(parts[1]), actor=actor)}
            raise SandboxError(405, [_NO_METHOD])
        if len(parts) in (3, 4) and parts[1].isdigit():
            return self._child(method, parts, body, actor)
        raise SandboxError(405, [_NO_METHOD])

    def _child(self, method: str, parts: list[str], body: Any, actor: int) -> tuple[int, Any]:
        """``/{Parent}/{id}/{Child}`` and ``/{Parent}/{id}/{Child}/{childId}``."""
        t = self.tenant
        head, parent_id = parts[0], int(parts[1])
        child = CHILD_PATHS.get((head.lower(), parts[2].lower()))
        if child is None:
            raise SandboxError(404, [f"No HTTP resource was found that matches {'/'.join(parts)}."])
        spec = spec_for(child)
        writes = len(parts) == 3 and (
            (method == "POST" and spec.can_create)
            or (method in ("PATCH", "PUT") and spec.can_update)
        )
        deletes = len(parts) == 4 and parts[3].isdigit() and method == "DELETE" and spec.can_delete
        if not (writes or deletes):  # the verb is checked before any record is looked up
            raise SandboxError(405, [_NO_METHOD])
        if t.table(head).get(parent_id) is None:
            raise SandboxError(500, [f"No matching records found for {head} id {parent_id}."])
        if method == "POST":
            if child == "ContractServiceAdjustments":
                return 200, {"itemId": t.adjust_service_units(parent_id, _obj(body))}
            return 200, {"itemId": t.create(child, _obj(body), parent_id=parent_id, actor=actor)}
        if method in ("PATCH", "PUT"):
            changes = _obj(body) if method == "PATCH" else _replace_all(child, _obj(body))
            return 200, {"itemId": t.update(child, changes, parent_id=parent_id, actor=actor)}
        row = t.table(child).get(int(parts[3]))
        fk = spec.parent[2] if spec.parent else ""
        if row is None or row.get(fk) != parent_id:
            raise SandboxError(500, [f"No matching records found for {child} id {parts[3]}."])
        return 200, {"itemId": t.delete(child, int(parts[3]), actor=actor)}

    def _query(
        self, method: str, entity: str, tail: list[str], body: Any, request: httpx.Request
    ) -> tuple[int, Any]:
        if not spec_for(entity).can_query:
            raise SandboxError(405, [_NO_METHOD])
        if tail == ["next"] and method != "POST":  # what silently truncates clients that GET it
            raise SandboxError(405, ["The requested resource does not support http method 'GET'."])
        if method == "GET":
            raw = request.url.params.get("search")
            if raw is None:
                raise SandboxError(500, ["The search parameter is required."])
            body = json.loads(raw)
        elif method != "POST":
            raise SandboxError(405, [_NO_METHOD])
        query = _obj(body)
        if tail == ["count"]:
            return 200, {"queryCount": len(self.tenant.query(entity, query))}
        offset = 0
        if tail == ["next"]:
            offset = int(
                json.loads(base64.urlsafe_b64decode(request.url.params.get("paging", "e30="))).get(
                    "offset", 0
                )
            )
        elif tail:
            raise SandboxError(
                404, [f"No HTTP resource was found that matches {entity}/query/{'/'.join(tail)}."]
            )
        size = query.get("MaxRecords", query.get("maxRecords", PAGE_SIZE))
        if not isinstance(size, int) or not 1 <= size <= PAGE_SIZE:
            raise SandboxError(500, [f"MaxRecords must be between 1 and {PAGE_SIZE}."])
        rows = self.tenant.query(entity, query)
        page = rows[offset : offset + size]
        next_url = None
        if offset + size < len(rows):
            token = base64.urlsafe_b64encode(
                json.dumps({"offset": offset + size}).encode()
            ).decode()
            next_url = str(
                request.url.copy_with(
                    path=request.url.path.rsplit("/query", 1)[0] + "/query/next",
                    query=f"paging={token}".encode(),
                )
            )
        return 200, {
            "items": page,
            "pageDetails": {
                "count": len(page),
                "requestCount": size,
                "prevPageUrl": None,
                "nextPageUrl": next_url,
            },
        }


def _is_write(method: str, path: str) -> bool:
    return method in ("POST", "PATCH", "PUT", "DELETE") and "/query" not in path.lower()


def _bucket(rest: str) -> str:
    """The thread-limit bucket: the entity endpoint, the child entity for child URLs."""
    parts = rest.split("/")
    if len(parts) >= 3 and parts[1].isdigit():
        child = CHILD_PATHS.get((parts[0].lower(), parts[2].lower()))
        if child:
            return child
        if parts[2].lower() == "serviceadjustments":
            return "ContractServiceAdjustments"
    try:
        return spec_for(parts[0]).name
    except SandboxError:
        return parts[0]


def _contract_of(adjustment: dict[str, Any]) -> int:
    raw = next((v for k, v in adjustment.items() if k.lower() == "contractid"), None)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise SandboxError(500, ["Missing required field: contractID."])
    return raw


def _obj(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SandboxError(500, ["The request body must be a JSON object."])
    return body


def _replace_all(entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT semantics: every writable field not sent is blanked."""
    spec = spec_for(entity)
    blanks = {f.name: None for f in spec.fields if not f.read_only and not f.required}
    return {**blanks, **body}


def _fault_error(fault: Fault, request: httpx.Request) -> Exception:
    if fault.timeout:
        return httpx.ReadTimeout("injected timeout", request=request)
    return SandboxError(fault.status, list(fault.errors), body=fault.body)


def _reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)
