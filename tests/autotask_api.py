"""Autotask's published REST API as data, and a recorder that holds every call to it.

``tests/data/autotask-entities.json`` (and its supplement) list, per entity, the fields with
their OpenAPI types and the operations (verb and URL) of Autotask's published OpenAPI. The
sandbox was written by us and shares our blind spots, so it cannot be the judge of what Autotask
has: this list is. ``ConformanceRecorder`` watches every request a sandbox transport receives and
reports each verb, URL, filter field, ``IncludeFields`` name and body key that the list does not
document for that entity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx

DATA = Path(__file__).parent / "data"
MAIN = DATA / "autotask-entities.json"
SUPPLEMENT = DATA / "autotask-entities-supplement.json"

# QueryModel's properties; the OpenAPI spells them camelCase and its example PascalCase
QUERY_KEYS = frozenset({"filter", "includefields", "maxrecords"})
FILTER_KEYS = frozenset({"op", "field", "udf", "value", "items"})
# What the entity-information GETs are called in the supplement, and their URL tails
INFO_TAILS = {"info": "entityInformation", "fields": "entityInformation/fields",
              "udf": "entityInformation/userDefinedFields"}  # fmt: skip
_BODY_KINDS = frozenset(
    {"query", "count", "query_next", "create", "create_child", "update", "replace"}
)


@dataclass(frozen=True)
class Operation:
    """One documented verb and URL template; ``kind`` says how its body is read."""

    entity: str
    kind: str
    method: str
    template: str
    params: frozenset[str] = frozenset()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        path = re.escape(self.template).replace(r"\{id\}", r"\d+").replace(r"\{parentId\}", r"\d+")
        object.__setattr__(self, "pattern", re.compile(f"^{path}$", re.IGNORECASE))


@dataclass(frozen=True)
class PublishedApi:
    fields: Mapping[str, Mapping[str, str]]  # entity -> field name -> OpenAPI type
    operations: tuple[Operation, ...]

    def match(self, method: str, path: str) -> Operation | None:
        """The documented operation for a request path (``/V1.0/...``), case-insensitively."""
        for op in self.operations:
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def field_type(self, entity: str, name: str) -> str | None:
        return self.fields.get(entity, {}).get(name)


@cache
def published_api() -> PublishedApi:
    main, extra = (json.loads(p.read_text()) for p in (MAIN, SUPPLEMENT))
    entities = {**main["entities"], **extra["entities"]}
    ops: list[Operation] = []
    for name, entity in entities.items():
        for kind, spec in entity["operations"].items():
            if spec is None:
                continue
            method, template = spec.split(" ", 1)
            ops.append(Operation(name, kind, method, template))
            if kind == "query":  # the conventions: these exist wherever query does
                ops += [
                    Operation(name, "query", "GET", template, frozenset({"search"})),
                    Operation(name, "count", "POST", template + "/count"),
                    Operation(name, "count", "GET", template + "/count", frozenset({"search"})),
                ]
                paging = extra["verified_elsewhere"]["query_next"]
                ops.append(Operation(name, "query_next", paging["method"], template + "/next",
                                     frozenset(paging["parameters"])))  # fmt: skip
    for name, info in extra["entity_information"].items():
        for kind in info["operations"]:
            ops.append(Operation(name, kind, "GET", f"/V1.0/{name}/{INFO_TAILS[kind]}"))
    for name, endpoint in extra["endpoints"].items():
        method, template = endpoint["operation"].split(" ", 1)
        ops.append(Operation(name, "endpoint", method, template, frozenset(endpoint["parameters"])))
    fields = {name: dict(entity["fields"]) for name, entity in entities.items()}
    return PublishedApi(fields, tuple(ops))


def api_path(url: httpx.URL) -> str:
    """``/V1.0/...`` of an Autotask URL, whatever comes before it (zone host, ATServicesRest)."""
    path = url.path
    at = path.lower().find("/v1.0/")
    return path[at:] if at >= 0 else path


def type_accepts(documented: str, value: Any) -> bool:
    """Whether a JSON value fits an OpenAPI type of the list (``None`` clears any field)."""
    if value is None:
        return True
    if documented in ("int32", "int64"):
        return isinstance(value, int) and not isinstance(value, bool)
    if documented == "double":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if documented == "boolean":
        return isinstance(value, bool)
    if documented == "date-time":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return False
        return isinstance(value, str)
    if documented == "string":
        return isinstance(value, str)
    return documented.startswith("array") and isinstance(value, list)


def _filter_fields(items: Any) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(field name or None for a group, item) for every condition, nested groups included."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            yield None, {}
            continue
        if str(item.get("op", "")).lower() in ("and", "or"):
            yield None, item
            yield from _filter_fields(item.get("items"))
        else:
            yield str(item.get("field", "")), item


def problems_of(request: httpx.Request, api: PublishedApi | None = None) -> list[str]:
    """Everything in one request that Autotask's published API does not document."""
    api = api or published_api()
    method, path = request.method.upper(), api_path(request.url)
    call = f"{method} {path}"
    op = api.match(method, path)
    if op is None:
        return [f"{call}: Autotask documents no such operation"]
    out = [
        f"{call}: query parameter {name!r} is not documented for this operation"
        for name in request.url.params
        if name not in op.params
    ]
    body: Any = json.loads(request.content) if request.content else None
    if op.kind in ("query", "count") and method == "GET":
        body = json.loads(request.url.params.get("search") or "null")
    if body is not None and op.kind not in _BODY_KINDS:
        out.append(f"{call}: Autotask takes no body here")
    elif op.kind in ("query", "count", "query_next"):
        out += _query_problems(call, op.entity, body, api)
    elif op.kind in ("create", "create_child", "update", "replace"):
        out += _body_problems(call, op.entity, body, api)
    return out


def _query_problems(call: str, entity: str, body: Any, api: PublishedApi) -> list[str]:
    if not isinstance(body, dict):
        return [f"{call}: the query body is not an object"]
    out = [
        f"{call}: {key!r} is not a query property" for key in body if key.lower() not in QUERY_KEYS
    ]
    lowered = {k.lower(): v for k, v in body.items()}
    for name, item in _filter_fields(lowered.get("filter")):
        out += [f"{call}: filter key {k!r} is not documented" for k in item if k not in FILTER_KEYS]
        if name is not None and not item.get("udf") and api.field_type(entity, name) is None:
            out.append(f"{call}: filter field {name!r} is not a documented {entity} field")
    for name in lowered.get("includefields") or []:
        if api.field_type(entity, str(name)) is None:
            out.append(f"{call}: IncludeFields name {name!r} is not a documented {entity} field")
    return out


def _body_problems(call: str, entity: str, body: Any, api: PublishedApi) -> list[str]:
    if not isinstance(body, dict):
        return [f"{call}: the body is not an object"]
    out = []
    for key, value in body.items():
        documented = api.field_type(entity, key)
        if documented is None:
            out.append(f"{call}: body key {key!r} is not a documented {entity} field")
        elif not type_accepts(documented, value):
            out.append(f"{call}: {key!r} = {value!r} does not fit {entity}.{key} ({documented})")
    return out


class ConformanceRecorder:
    """A sandbox observer (``add_observer``) that collects undocumented calls as they happen."""

    def __init__(self, api: PublishedApi | None = None) -> None:
        self.api = api or published_api()
        self.calls: list[str] = []
        self._problems: list[str] = []

    def __call__(self, request: httpx.Request, response: httpx.Response | None) -> None:
        self.calls.append(f"{request.method} {api_path(request.url)}")
        self._problems += problems_of(request, self.api)

    def take_problems(self) -> list[str]:
        """What was recorded so far, which is then forgotten (for tests that provoke it)."""
        taken, self._problems = self._problems, []
        return taken
