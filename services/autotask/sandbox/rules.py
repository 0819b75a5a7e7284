"""Autotask's business rules, as the sandbox enforces them on every write.

Every refusal is a ``SandboxError`` that the transport turns into HTTP 500 ``{"errors": [...]}``,
the way Autotask reports rule failures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.autotask.sandbox.errors import SandboxError
from services.autotask.sandbox.schema import EntitySpec, FieldSpec

Record = dict[str, Any]
Tables = Callable[[str], dict[int, Record]]  # entity name -> its rows by id
API_ONLY_LICENSE = 7
RECURRING_SERVICE = 7


def clean(spec: EntitySpec, body: Record, *, creating: bool) -> Record:
    out: Record = {}
    for key, value in body.items():
        f = spec.field(key)
        if f is None:
            raise SandboxError(500, [f"Unable to find {key} in the {spec.name} Entity."])
        if f.name == "id":
            continue
        if f.read_only:
            raise SandboxError(500, [f"{f.name} is read-only and cannot be set."])
        out[f.name] = _coerce(spec, f, value)
    if not creating and spec.name == "ClientPortalUsers" and "contactID" in out:
        raise SandboxError(
            500, ["contactID cannot be changed after a Client Portal user is created."]
        )
    return out


def require(spec: EntitySpec, record: Record) -> None:
    missing = [
        f.name
        for f in spec.fields
        if f.required and not f.read_only and record.get(f.name) in (None, "")
        and not (spec.parent and f.name == spec.parent[2])
    ]  # fmt: skip
    if missing:
        raise SandboxError(500, [f"Missing required field: {name}." for name in missing])


def check_references(tables: Tables, spec: EntitySpec, record: Record) -> None:
    for name, value in record.items():
        f = spec.field(name)
        if f is None or value is None:
            continue
        if f.reference and int(value) not in tables(f.reference):
            raise SandboxError(
                500,
                [
                    f"The value {value} of {f.name} does not refer to an existing {f.reference} record."
                ],
            )
        if f.picklist and int(value) not in {p.value for p in f.picklist if p.is_active}:
            raise SandboxError(
                500, [f"The value {value} is not a valid value for picklist field {f.name}."]
            )


def check_rules(
    tables: Tables, spec: EntitySpec, record: Record, *, existing: Record | None
) -> None:
    name = spec.name
    if name == "Companies":
        owner = tables("Resources").get(int(record["ownerResourceID"]))
        if owner and owner.get("licenseType") == API_ONLY_LICENSE:
            raise SandboxError(500, ["An API-only resource cannot be the owner of a Company."])
        _check_parent_chain(tables, record)
    elif name == "CompanyTeams":
        resource = tables("Resources")[int(record["resourceID"])]
        if resource.get("licenseType") == API_ONLY_LICENSE:
            raise SandboxError(500, ["An API-only resource cannot be a member of a Company team."])
        if any(
            r["companyID"] == record["companyID"] and r["resourceID"] == record["resourceID"]
            for r in tables("CompanyTeams").values()
        ):
            raise SandboxError(500, ["This resource is already a member of the Company team."])
    elif name == "ClientPortalUsers":
        _check_portal_user(tables, record, existing)
    elif name == "Contracts":
        if _date(record["endDate"]) <= _date(record["startDate"]):
            raise SandboxError(500, ["The contract end date must be after its start date."])
    elif name == "ContractServices":
        if existing is None:
            contract = tables("Contracts")[int(record["contractID"])]
            if contract.get("contractType") != RECURRING_SERVICE:
                raise SandboxError(
                    500, ["Services can only be added to contracts of type Recurring Service."]
                )
            if any(
                r["contractID"] == record["contractID"] and r["serviceID"] == record["serviceID"]
                for r in tables("ContractServices").values()
            ):
                raise SandboxError(500, ["This service is already on the contract."])
        else:
            locked = {
                k
                for k in ("serviceID", "unitCost", "contractID")
                if record.get(k) != existing.get(k)
            }
            if locked:
                raise SandboxError(
                    500, [f"{', '.join(sorted(locked))} cannot be changed after creation."]
                )
    elif name == "ConfigurationItems":
        cs_id = record.get("contractServiceID")
        if cs_id is not None:
            cs = tables("ContractServices")[int(cs_id)]
            contract = tables("Contracts")[int(cs["contractID"])]
            if contract["companyID"] != record["companyID"]:
                raise SandboxError(
                    500, ["The contract service belongs to another company's contract."]
                )
    elif name in ("CompanyWebhookFields", "CompanyWebhookExcludedResources"):
        key = "fieldID" if name == "CompanyWebhookFields" else "resourceID"
        if any(
            r["webhookID"] == record["webhookID"]
            and r[key] == record[key]
            and r["id"] != record["id"]
            for r in tables(name).values()
        ):
            raise SandboxError(
                500, [f"This webhook already has a {name} row for {key} {record[key]}."]
            )
    elif name == "CompanyToDos" and _date(record["endDateTime"]) < _date(record["startDateTime"]):
        raise SandboxError(500, ["The to-do end must not be before its start."])


def _check_parent_chain(tables: Tables, record: Record) -> None:
    parent_id = record.get("parentCompanyID")
    seen: set[int] = set()
    while parent_id is not None:
        if parent_id == record.get("id") or parent_id in seen:
            raise SandboxError(
                500, ["A company cannot be its own parent or the parent of its ancestor."]
            )
        seen.add(parent_id)
        parent = tables("Companies").get(int(parent_id))
        parent_id = parent.get("parentCompanyID") if parent else None


def _check_portal_user(tables: Tables, record: Record, existing: Record | None) -> None:
    users = tables("ClientPortalUsers").values()
    if any(
        u["userName"].casefold() == str(record["userName"]).casefold() and u["id"] != record["id"]
        for u in users
    ):
        raise SandboxError(
            500, [f"The Client Portal user name {record['userName']} is already in use."]
        )
    if existing is None and any(u["contactID"] == record["contactID"] for u in users):
        raise SandboxError(500, ["This contact already has a Client Portal user."])
    password = record.pop("password", None)
    if password is not None:
        text = str(password)
        if (
            not 5 <= len(text) <= 50
            or "'" in text
            or any(c.isspace() or not c.isprintable() for c in text)
        ):
            raise SandboxError(
                500,
                [
                    "The password must be 5 to 50 printable characters with no spaces or single quotes."
                ],
            )
    elif existing is None:
        raise SandboxError(500, ["Missing required field: password."])
    level = record["securityLevel"]
    if level in (4, 5):
        contact = tables("Contacts")[int(record["contactID"])]
        company = tables("Companies")[int(contact["companyID"])]
        if not company.get("isTaskFireActive"):
            raise SandboxError(
                500, ["Taskfire security levels need Taskfire enabled on the Company."]
            )


def _date(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _coerce(spec: EntitySpec, f: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    bad = SandboxError(
        500,
        [f"Conversion failed when converting the value {value!r} of {f.name} to {f.data_type}."],
    )
    if f.data_type in ("integer", "long", "short"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad
        try:
            return int(value)
        except ValueError:
            raise bad from None
    if f.data_type in ("decimal", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise bad
        try:
            return float(value)
        except ValueError:
            raise bad from None
    if f.data_type == "boolean":
        if not isinstance(value, bool):
            raise bad
        return value
    if f.data_type == "datetime":
        try:
            parsed = _date(value)
        except ValueError:
            raise bad from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    if f.length and len(text) > f.length:
        raise SandboxError(
            500, [f"The value of {f.name} is longer than the maximum of {f.length} characters."]
        )
    return text
