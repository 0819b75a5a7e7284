"""A typed builder for Autotask query filters.

Autotask takes ``{"filter": [...], "IncludeFields": [...], "MaxRecords": n}`` where each filter
item is a condition ``{"op", "field", "value"}`` or a group ``{"op": "and"|"or", "items": [...]}``
and the top-level list is an AND. Building these by hand invites typos in operator names that
Autotask reports only as an opaque 500, so the operators are methods here.

    >>> f = field("companyType").eq(1) & (field("companyName").contains("acme") | field("id").in_([4, 5]))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

Scalar = str | int | float | bool | None
ALL_OPERATORS: tuple[str, ...] = (
    "eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains",
    "exist", "notExist", "in", "notIn",
)  # fmt: skip
MAX_PAGE_SIZE = 500
MAX_OR_CONDITIONS = 500


class _Combinable:
    def __and__(self, other: Filter) -> Group:
        return Group("and", [_as_filter(self), other])

    def __or__(self, other: Filter) -> Group:
        return Group("or", [_as_filter(self), other])


@dataclass(frozen=True)
class Condition(_Combinable):
    op: str
    field: str
    value: Any = None
    udf: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"op": self.op, "field": self.field}
        if self.op not in ("exist", "notExist"):
            body["value"] = self.value
        if self.udf:
            body["udf"] = True
        return body


@dataclass(frozen=True)
class Group(_Combinable):
    op: Literal["and", "or"]
    items: list[Filter] = dc_field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "items": [item.to_json() for item in self.items]}


Filter = Condition | Group


def _as_filter(item: _Combinable) -> Filter:
    """Only conditions and groups combine; this says so to the type checker too."""
    if isinstance(item, Condition | Group):
        return item
    raise TypeError(f"{type(item).__name__} is not a filter")


@dataclass(frozen=True)
class FieldRef:
    """One field of an entity; its methods are Autotask's operators."""

    name: str
    udf: bool = False

    def _c(self, op: str, value: Any = None) -> Condition:
        return Condition(op, self.name, value, self.udf)

    def eq(self, value: Scalar) -> Condition:
        return self._c("eq", value)

    def noteq(self, value: Scalar) -> Condition:
        return self._c("noteq", value)

    def gt(self, value: Scalar) -> Condition:
        return self._c("gt", value)

    def gte(self, value: Scalar) -> Condition:
        return self._c("gte", value)

    def lt(self, value: Scalar) -> Condition:
        return self._c("lt", value)

    def lte(self, value: Scalar) -> Condition:
        return self._c("lte", value)

    def begins_with(self, value: str) -> Condition:
        return self._c("beginsWith", value)

    def ends_with(self, value: str) -> Condition:
        return self._c("endsWith", value)

    def contains(self, value: str) -> Condition:
        return self._c("contains", value)

    def exists(self) -> Condition:
        return self._c("exist")

    def not_exists(self) -> Condition:
        return self._c("notExist")

    def in_(self, values: Iterable[Scalar]) -> Condition:
        return self._c("in", list(values))

    def not_in(self, values: Iterable[Scalar]) -> Condition:
        return self._c("notIn", list(values))


def field(name: str, *, udf: bool = False) -> FieldRef:
    return FieldRef(name, udf)


def all_of(*items: Filter) -> Group:
    return Group("and", list(items))


def any_of(*items: Filter) -> Group:
    return Group("or", list(items))


@dataclass(frozen=True)
class Query:
    """A query body. ``filters`` are ANDed, as Autotask does with its top-level list."""

    filters: Sequence[Filter] = ()
    include_fields: Sequence[str] = ()
    max_records: int | None = None

    def to_json(self) -> dict[str, Any]:
        # Autotask refuses an empty filter list; "id exists" is its documented "everything".
        filters = list(self.filters) or [field("id").exists()]
        body: dict[str, Any] = {"filter": [f.to_json() for f in filters]}
        if self.include_fields:
            body["IncludeFields"] = list(self.include_fields)
        if self.max_records is not None:
            if not 1 <= self.max_records <= MAX_PAGE_SIZE:
                raise ValueError(f"MaxRecords must be 1..{MAX_PAGE_SIZE}, got {self.max_records}")
            body["MaxRecords"] = self.max_records
        return body


def chunked_in(
    name: str, values: Sequence[Scalar], size: int = MAX_OR_CONDITIONS
) -> list[Condition]:
    """Split a long ``in`` list: Autotask counts each value as an OR term, at most 500 a query."""
    return [field(name).in_(values[i : i + size]) for i in range(0, len(values), size)]
