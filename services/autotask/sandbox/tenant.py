"""The sandbox tenant: records, and the business rules Autotask enforces on writes.

Every refusal is an HTTP 500 with ``{"errors": [...]}``, as Autotask sends them, so the real
client's error mapping is what turns them into exceptions.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.autotask.sandbox.errors import SandboxError
from services.autotask.sandbox.matching import MAX_OR_TERMS, check_fields, count_or_terms, matches
from services.autotask.sandbox.rules import (
    RECURRING_SERVICE,
    Record,
    check_references,
    check_rules,
    clean,
    require,
)
from services.autotask.sandbox.schema import ENTITIES, EntitySpec

logger = logging.getLogger(__name__)
# Never returned by a read, as Autotask keeps passwords (and, we assume, webhook secret keys)
WRITE_ONLY = frozenset({"password", "secretKey"})


@dataclass(frozen=True)
class Change:
    """One landed write, for listeners such as the webhook emitter.

    ``actor`` is the resource the write is attributed to: the impersonated resource or the API
    user's own, or the person editing in the (simulated) web UI.
    """

    entity: str
    action: str  # "Create", "Update" or "Delete", as webhook payloads spell them
    before: dict[str, Any]
    after: dict[str, Any]
    actor: int | None


@dataclass(frozen=True)
class ApiUser:
    username: str
    secret: str
    integration_code: str
    resource_id: int


def spec_for(entity: str) -> EntitySpec:
    spec = ENTITIES.get(entity.lower())
    if spec is None:
        raise SandboxError(404, [f"The requested resource '{entity}' does not exist."])
    return spec


class Tenant:
    """One Autotask database. Thread-safe, because the HTTP server may call it from threads."""

    def __init__(
        self,
        records: dict[str, dict[int, Record]],
        *,
        api_users: Iterable[ApiUser],
        zone_number: int = 14,
        path: Path | None = None,
    ) -> None:
        self.records: dict[str, dict[int, Record]] = {s.name.lower(): {} for s in ENTITIES.values()}
        for entity, rows in records.items():
            self.records[entity.lower()] = {int(k): dict(v) for k, v in rows.items()}
        self.api_users = {u.username.lower(): u for u in api_users}
        self.zone_number = zone_number
        self.path = path
        self._lock = threading.RLock()
        self.listeners: list[Callable[[Change], None]] = []
        # Companies fields this tenant does not let a webhook watch (an older Autotask, say)
        self.webhook_fields_withheld: set[str] = set()

    # ----- persistence ------------------------------------------------------------------------

    def save(self) -> None:
        if self.path is None:
            return
        data = {
            "zone_number": self.zone_number,
            "api_users": [u.__dict__ for u in self.api_users.values()],
            "records": {
                e: {str(k): v for k, v in rows.items()} for e, rows in self.records.items()
            },
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    @classmethod
    def load(cls, path: Path) -> Tenant:
        data = json.loads(path.read_text())
        return cls(
            {e: {int(k): v for k, v in rows.items()} for e, rows in data["records"].items()},
            api_users=[ApiUser(**u) for u in data["api_users"]],
            zone_number=int(data["zone_number"]),
            path=path,
        )

    # ----- reads ------------------------------------------------------------------------------

    def table(self, entity: str) -> dict[int, Record]:
        return self.records[spec_for(entity).name.lower()]

    def get(self, entity: str, id_: int) -> Record | None:
        with self._lock:
            row = self.table(entity).get(id_)
            return _public(spec_for(entity), row) if row else None

    def field_info(self, entity: str) -> list[dict[str, Any]]:
        """``entityInformation/fields`` of this tenant."""
        spec = spec_for(entity)
        fields = [f.to_json() for f in spec.fields]
        withheld = self.webhook_fields_withheld
        for info in fields:
            if spec.name == "Companies" and info["name"] in withheld:
                info["isSupportedWebhookField"] = False
            if spec.name == "CompanyWebhookFields" and info["name"] == "fieldID":
                info["picklistValues"] = [
                    v for v in info["picklistValues"] if v["label"] not in withheld
                ]
        return fields

    def query(self, entity: str, body: dict[str, Any]) -> list[Record]:
        spec = spec_for(entity)
        if not spec.can_query:
            raise SandboxError(405, [f"{spec.name} cannot be queried."])
        filters = _key(body, "filter")
        if not isinstance(filters, list) or not filters:
            raise SandboxError(500, ["A query must have at least one filter condition."])
        if count_or_terms(filters) > MAX_OR_TERMS:
            raise SandboxError(500, ["Queries are limited to 500 or fewer 'OR' conditions."])
        check_fields(spec, filters)
        include = _key(body, "IncludeFields") or []
        for name in include:
            if spec.field(str(name)) is None:
                raise SandboxError(500, [f"Unable to find {name} in the {spec.name} Entity."])
        with self._lock:
            rows = [r for _, r in sorted(self.table(entity).items()) if matches(r, filters)]
        result = [_public(spec, r) for r in rows]
        if include:
            wanted = {str(n).lower() for n in include}
            result = [{k: v for k, v in r.items() if k.lower() in wanted} for r in result]
        return result

    # ----- writes -----------------------------------------------------------------------------

    def create(
        self, entity: str, body: Record, *, parent_id: int | None = None, actor: int | None = None
    ) -> int:
        spec = spec_for(entity)
        if not spec.can_create:
            raise SandboxError(405, [f"{spec.name} cannot be created through the API."])
        with self._lock:
            record = clean(spec, body, creating=True)
            if spec.parent:
                fk = spec.parent[2]
                if parent_id is None:
                    raise SandboxError(
                        404,
                        [
                            f"{spec.name} must be created at /{spec.parent[0]}/{{id}}/{spec.parent[1]}."
                        ],
                    )
                if record.get(fk) not in (None, parent_id):
                    raise SandboxError(500, [f"{fk} does not match the parent id in the URL."])
                record[fk] = parent_id
            require(spec, record)
            check_references(self.table, spec, record)
            table = self.table(entity)
            new_id = max(table, default=0) + 1
            record["id"] = new_id
            check_rules(self.table, spec, record, existing=None)
            table[new_id] = record
            self._after_write(spec, record, actor)
            self.save()
            self._notify(Change(spec.name, "Create", {}, dict(record), actor))
            return new_id

    def update(
        self, entity: str, body: Record, *, parent_id: int | None = None, actor: int | None = None
    ) -> int:
        spec = spec_for(entity)
        if not spec.can_update:
            raise SandboxError(405, [f"{spec.name} cannot be updated."])
        if spec.parent and parent_id is None:
            raise SandboxError(
                404, [f"{spec.name} must be updated at /{spec.parent[0]}/{{id}}/{spec.parent[1]}."]
            )
        raw_id = _key(body, "id")
        if raw_id is None:
            raise SandboxError(500, ["An update must include the id of the record."])
        with self._lock:
            existing = self.table(entity).get(int(raw_id))
            if existing is None:
                raise SandboxError(500, [f"No matching records found for {spec.name} id {raw_id}."])
            changes = clean(
                spec, {k: v for k, v in body.items() if k.lower() != "id"}, creating=False
            )
            merged = {**existing, **changes}
            require(spec, merged)
            check_references(self.table, spec, changes)
            check_rules(self.table, spec, merged, existing=existing)
            changes.pop("password", None)  # validated above, never stored
            before = dict(existing)
            existing.update(changes)
            self._after_write(spec, existing, actor)
            self.save()
            self._notify(Change(spec.name, "Update", before, dict(existing), actor))
            return int(raw_id)

    def delete(self, entity: str, id_: int, *, actor: int | None = None) -> int:
        spec = spec_for(entity)
        if not spec.can_delete:
            raise SandboxError(405, [f"{spec.name} cannot be deleted."])
        with self._lock:
            table = self.table(entity)
            row = table.get(id_)
            if row is None:
                raise SandboxError(500, [f"No matching records found for {spec.name} id {id_}."])
            if spec.name == "Contacts" and row.get("primaryContact"):
                raise SandboxError(500, ["A primary contact cannot be deleted."])
            del table[id_]
            self._after_delete(spec, row)
            self.save()
            self._notify(Change(spec.name, "Delete", dict(row), {}, actor))
            return id_

    def adjust_service_units(self, contract_id: int, body: Record) -> int:
        """ContractServiceAdjustments: creates the contract service if needed, moves its units."""
        with self._lock:
            contract = self.table("Contracts").get(contract_id)
            if contract is None:
                raise SandboxError(
                    500, [f"No matching records found for Contracts id {contract_id}."]
                )
            if contract.get("contractType") != RECURRING_SERVICE:
                raise SandboxError(
                    500, ["Services can only be added to contracts of type Recurring Service."]
                )
            spec = spec_for("ContractServiceAdjustments")
            adjustment = clean(spec, body, creating=True)
            adjustment["contractID"] = contract_id
            require(spec, adjustment)
            services = self.table("ContractServices")
            cs_id = adjustment.get("contractServiceID")
            if cs_id is None:
                service_id = adjustment.get("serviceID")
                if service_id not in self.table("Services"):
                    raise SandboxError(
                        500, ["An adjustment needs a valid serviceID or contractServiceID."]
                    )
                cs_id = next(
                    (
                        i
                        for i, r in services.items()
                        if r["contractID"] == contract_id and r["serviceID"] == service_id
                    ),
                    None,
                )
                if cs_id is None:
                    cs_id = self.create(
                        "ContractServices", {"serviceID": service_id}, parent_id=contract_id
                    )
            cs = services.get(int(cs_id))
            if cs is None or cs["contractID"] != contract_id:
                raise SandboxError(
                    500, [f"ContractService {cs_id} is not on contract {contract_id}."]
                )
            units = self.table("ContractServiceUnits")
            current = next((r for r in units.values() if r["contractServiceID"] == cs["id"]), None)
            change = int(adjustment.get("unitChange") or 0)
            if current is None:
                current = {
                    "id": max(units, default=0) + 1, "contractID": contract_id,
                    "contractServiceID": cs["id"], "serviceID": cs["serviceID"], "units": 0,
                    "startDate": adjustment["effectiveDate"], "endDate": contract.get("endDate"),
                }  # fmt: skip
                units[current["id"]] = current
            if current["units"] + change < 0:
                raise SandboxError(500, ["The unit change would leave fewer than zero units."])
            current["units"] += change
            self.save()
            return int(cs["id"])

    # ----- rules ------------------------------------------------------------------------------

    def _notify(self, change: Change) -> None:
        for listener in list(self.listeners):
            try:
                listener(change)
            except Exception:  # a listener's bug must not undo or fail a write that landed
                logger.exception("sandbox listener failed on %s %s", change.action, change.entity)

    def _after_delete(self, spec: EntitySpec, row: Record) -> None:
        if spec.name == "CompanyWebhooks":
            for child in ("CompanyWebhookFields", "CompanyWebhookExcludedResources"):
                table = self.table(child)
                for key in [k for k, r in table.items() if r["webhookID"] == row["id"]]:
                    del table[key]
        elif spec.name == "CompanyWebhookFields":
            self._refresh_ready(int(row["webhookID"]))

    def _refresh_ready(self, webhook_id: int) -> None:
        """isReady: active, with at least one field that triggers a callout."""
        hook = self.table("CompanyWebhooks").get(webhook_id)
        if hook is not None:
            hook["isReady"] = bool(hook.get("isActive")) and any(
                f["webhookID"] == webhook_id and f.get("isSubscribedField")
                for f in self.table("CompanyWebhookFields").values()
            )

    def _after_write(self, spec: EntitySpec, record: Record, actor: int | None = None) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if spec.name == "Companies":
            record["lastTrackedModifiedDateTime"] = now
            record.setdefault("createDate", now)
        elif spec.name == "CompanyNotes":
            record["lastModifiedDate"] = now
            record.setdefault("createDateTime", now)
        elif spec.name == "CompanyWebhooks":
            record.setdefault("webhookGUID", str(uuid.uuid4()))
            record.setdefault("ownerResourceID", actor)
            self._refresh_ready(int(record["id"]))
        elif spec.name == "CompanyWebhookFields":
            self._refresh_ready(int(record["webhookID"]))
        elif spec.name == "Contacts" and record.get("primaryContact"):
            # One primary contact per company: marking another clears the old one, as the UI does.
            for other in self.table("Contacts").values():
                if other["companyID"] == record["companyID"] and other["id"] != record["id"]:
                    other["primaryContact"] = False


def _key(body: Record, name: str) -> Any:
    return next((v for k, v in body.items() if k.lower() == name.lower()), None)


def _public(spec: EntitySpec, row: Record) -> Record:
    # Write-only fields (passwords) never come back, as in Autotask.
    return {k: v for k, v in row.items() if k not in WRITE_ONLY}
