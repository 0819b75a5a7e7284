"""Evaluation of Autotask query filters against the sandbox's records."""

from __future__ import annotations

from typing import Any

from services.autotask.sandbox.errors import SandboxError
from services.autotask.sandbox.schema import EntitySpec

MAX_OR_TERMS = 500


def count_or_terms(items: list[dict[str, Any]]) -> int:
    total = 0
    for item in items:
        op = str(item.get("op", "")).lower()
        if op in ("and", "or"):
            inner = item.get("items") or []
            total += count_or_terms(inner) + (len(inner) if op == "or" else 0)
        elif op in ("in", "notin"):
            total += len(item.get("value") or [])
    return total


def check_fields(spec: EntitySpec, items: list[dict[str, Any]]) -> None:
    for item in items:
        op = str(item.get("op", "")).lower()
        if op in ("and", "or"):
            check_fields(spec, item.get("items") or [])
            continue
        name = str(item.get("field", ""))
        f = spec.field(name)
        if f is None and not item.get("udf"):
            raise SandboxError(500, [f"Unable to find {name} in the {spec.name} Entity."])
        if f is not None and not f.queryable:
            raise SandboxError(500, [f"The field {f.name} is not queryable."])
        if op not in _OPS:
            raise SandboxError(500, [f"Invalid operator {item.get('op')!r} for field {name}."])


def matches(record: dict[str, Any], items: list[dict[str, Any]], combine: str = "and") -> bool:
    results = (_match_one(record, item) for item in items)
    return all(results) if combine == "and" else any(results)


def _match_one(record: dict[str, Any], item: dict[str, Any]) -> bool:
    op = str(item.get("op", "")).lower()
    if op in ("and", "or"):
        return matches(record, item.get("items") or [], op)
    name = str(item.get("field", "")).lower()
    actual = next((v for k, v in record.items() if k.lower() == name), None)
    if op in ("in", "notin") and type(actual) is int:
        ints = _int_set(item.get("value"))
        if ints is not None:  # the same answer as comparing one by one, without the loop
            return (actual in ints) == (op == "in")
    return bool(_OPS[op](actual, item.get("value")))


_INT_SETS: dict[int, tuple[Any, frozenset[int]]] = {}


def _int_set(values: Any) -> frozenset[int] | None:
    """An ``in`` list made only of integers, as a set (kept while the list lives: one query
    evaluates the same list against every record); ``None`` for any other list."""
    if not isinstance(values, list):
        return None
    kept = _INT_SETS.get(id(values))
    if kept is not None and kept[0] is values:
        return kept[1]
    if not all(type(v) is int for v in values):
        return None
    if len(_INT_SETS) > 64:
        _INT_SETS.clear()
    ints = frozenset(values)
    _INT_SETS[id(values)] = (values, ints)
    return ints


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()  # SQL Server's default collation: case-insensitive
    if isinstance(value, bool):
        return int(value)
    return value


def _cmp(actual: Any, expected: Any, test: Any) -> bool:
    if actual is None or expected is None:
        return False
    a, e = _norm(actual), _norm(expected)
    try:
        if isinstance(a, str) != isinstance(e, str):
            a, e = float(a), float(e)
        return bool(test(a, e))
    except (TypeError, ValueError):
        return False


_OPS: dict[str, Any] = {
    "eq": lambda a, e: (a is None and e is None) or _cmp(a, e, lambda x, y: x == y),
    "noteq": lambda a, e: not ((a is None and e is None) or _cmp(a, e, lambda x, y: x == y)),
    "gt": lambda a, e: _cmp(a, e, lambda x, y: x > y),
    "gte": lambda a, e: _cmp(a, e, lambda x, y: x >= y),
    "lt": lambda a, e: _cmp(a, e, lambda x, y: x < y),
    "lte": lambda a, e: _cmp(a, e, lambda x, y: x <= y),
    "beginswith": lambda a, e: _cmp(a, e, lambda x, y: str(x).startswith(str(y))),
    "endswith": lambda a, e: _cmp(a, e, lambda x, y: str(x).endswith(str(y))),
    "contains": lambda a, e: _cmp(a, e, lambda x, y: str(y) in str(x)),
    "exist": lambda a, e: a is not None and a != "",
    "notexist": lambda a, e: a is None or a == "",
    "in": lambda a, e: any(_cmp(a, v, lambda x, y: x == y) for v in (e or [])),
    "notin": lambda a, e: not any(_cmp(a, v, lambda x, y: x == y) for v in (e or [])),
}
