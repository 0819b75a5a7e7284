"""One class per kind of change. A step knows its diff, how to write it, and how to find out
whether a write whose answer was lost landed after all (``landed``).

Steps never decide *whether* to write: the plan built them from a fresh snapshot of Autotask, and a
step with no changes is never applied. That is what makes a re-run or a resume safe: it re-reads,
re-plans, and only what is still missing becomes a write. Within a run, a write whose outcome is
unknown is looked up by the step itself: one query, instead of re-reading the whole company.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Literal

from services import log_context
from services.autotask.client import AutotaskClient, CallHooks
from services.autotask.filters import Filter
from services.autotask.filters import field as f
from services.autotask.models import Parent
from services.i18n import Translator


@dataclass(frozen=True)
class Change:
    field: str  # the Autotask field name; front-ends label it with t("field.<name>")
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Write:
    action: Literal["create", "update", "delete"]
    entity: str
    id: int
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PortalSecret:
    """A generated Client Portal password, handed once to the requester and never stored."""

    contact: str
    user_name: str
    password: str = field(repr=False)


@dataclass
class RunContext:
    client: AutotaskClient
    company_id: int
    impersonate: int | None = None
    created: dict[str, int] = field(default_factory=dict)  # step key -> id written in this run
    secrets: list[PortalSecret] = field(default_factory=list)
    hooks: CallHooks | None = None  # every write: the run's lease fence, its waits shown


@dataclass(frozen=True)
class Landed:
    """What a lookup found of a step whose write's answer was lost: the writes that are in
    Autotask, and whether that is the whole step (else what is left is sent again)."""

    writes: list[Write]
    complete: bool = True


# How a created record is found again: the fields that identify it among its parent's records.
IDENTIFIED_BY: dict[str, tuple[str, ...]] = {
    "CompanyTeams": ("resourceID",),
    "CompanyNotes": ("name",),  # the name carries the onboarding's reference
    "CompanyToDos": ("assignedToResourceID", "activityDescription"),
    "Contracts": ("companyID", "contractName", "contractType"),
}


PASSWORD_SYMBOLS = "!#$%*+-=?@^_~"  # noqa: S105 (an alphabet) printable, no quote or space


def generate_password(length: int = 20) -> str:
    alphabet = string.ascii_letters + string.digits + PASSWORD_SYMBOLS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(c in PASSWORD_SYMBOLS for c in candidate)
        ):
            log_context.never_log(candidate)
            return candidate


@dataclass
class Step:
    key: str
    kind: str
    params: dict[str, Any]
    changes: list[Change]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def describe(self, t: Translator) -> str:
        return t(f"step.{self.kind}", **self.params)

    async def apply(self, ctx: RunContext) -> list[Write]:
        raise NotImplementedError

    async def landed(self, ctx: RunContext) -> Landed | None:
        """After a write whose outcome is unknown: what of this step is in Autotask (``None``:
        nothing, send it again). May update the step so a retry sends only what is missing."""
        raise NotImplementedError


@dataclass
class PatchStep(Step):
    """PATCH of some fields of one record (company settings, a contact, a device...)."""

    entity: str = "Companies"
    record_id: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    parent: Parent | None = None
    # Fields whose value is an id created earlier in the run: api field -> step key
    from_run: dict[str, str] = field(default_factory=dict)

    async def apply(self, ctx: RunContext) -> list[Write]:
        values = dict(self.fields)
        for api_field, step_key in self.from_run.items():
            values[api_field] = ctx.created[step_key]
        await ctx.client.update(self.entity, self.record_id, values, parent=self.parent,
                                impersonate=ctx.impersonate, hooks=ctx.hooks)  # fmt: skip
        return [Write("update", self.entity, self.record_id, values)]

    async def landed(self, ctx: RunContext) -> Landed | None:
        return None  # a PATCH of the same values is harmless: sending it again costs no read


@dataclass
class CreateStep(Step):
    """Create one record (team member, note, to-do, contract)."""

    entity: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    parent: Parent | None = None

    async def apply(self, ctx: RunContext) -> list[Write]:
        new_id = await ctx.client.create(self.entity, self.body, parent=self.parent,
                                         impersonate=ctx.impersonate, hooks=ctx.hooks)  # fmt: skip
        ctx.created[self.key] = new_id
        return [Write("create", self.entity, new_id, dict(self.body))]

    async def landed(self, ctx: RunContext) -> Landed | None:
        filters: list[Filter] = []
        if self.parent is not None and self.parent.entity == "Companies":
            filters.append(f("companyID").eq(self.parent.id))
        for name in IDENTIFIED_BY[self.entity]:
            value = self.body[name]
            if name == "activityDescription":  # long text: its "[onboarding ref]" marker
                filters.append(f(name).begins_with(str(value).split("]")[0] + "]"))
            else:
                filters.append(f(name).eq(value))
        rows = await ctx.client.query(self.entity, filters, include_fields=["id"])
        if not rows:
            return None
        found = max(int(r["id"]) for r in rows)
        ctx.created[self.key] = found
        return Landed([Write("create", self.entity, found, dict(self.body))])


@dataclass
class DeleteStep(Step):
    entity: str = ""
    record_id: int = 0
    parent: Parent | None = None

    async def apply(self, ctx: RunContext) -> list[Write]:
        await ctx.client.delete(self.entity, self.record_id, parent=self.parent,
                                impersonate=ctx.impersonate, hooks=ctx.hooks)  # fmt: skip
        return [Write("delete", self.entity, self.record_id)]

    async def landed(self, ctx: RunContext) -> Landed | None:
        if await ctx.client.get(self.entity, self.record_id) is None:
            return Landed([Write("delete", self.entity, self.record_id)])
        return None


@dataclass
class PortalUserStep(Step):
    """Activate Client Portal for a contact: create its portal user, or fix an existing one."""

    contact_id: int = 0
    contact_name: str = ""
    user_name: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    existing_id: int | None = None
    new_password: bool = False  # a user created earlier whose password never reached anyone

    async def apply(self, ctx: RunContext) -> list[Write]:
        values = dict(self.fields)
        password = generate_password() if self.existing_id is None or self.new_password else None
        if password:
            values["password"] = password
        shown = {k: v for k, v in values.items() if k != "password"}
        if self.existing_id is None:
            new_id = await ctx.client.create(
                "ClientPortalUsers", {**values, "contactID": self.contact_id, "userName": self.user_name},
                impersonate=ctx.impersonate, hooks=ctx.hooks,
            )  # fmt: skip
            write = Write(
                "create", "ClientPortalUsers", new_id, {**shown, "userName": self.user_name}
            )
        else:
            await ctx.client.update("ClientPortalUsers", self.existing_id, values,
                                    impersonate=ctx.impersonate, hooks=ctx.hooks)  # fmt: skip
            write = Write("update", "ClientPortalUsers", self.existing_id, shown)
        if password:  # only once Autotask confirmed it: this is the password that works
            ctx.secrets.append(PortalSecret(self.contact_name, self.user_name, password))
        return [write]

    async def landed(self, ctx: RunContext) -> Landed | None:
        """A created portal user whose answer was lost has a password nobody received (the
        reply never said whether it was set): the retry gives it a new one, as after a crash."""
        if self.existing_id is not None:
            return None  # a PATCH: sent again, with a new password if it sets one
        rows = await ctx.client.query(
            "ClientPortalUsers", [f("contactID").eq(self.contact_id)], include_fields=["id"]
        )
        if not rows:
            return None
        self.existing_id = max(int(r["id"]) for r in rows)
        self.fields, self.new_password = {}, True
        shown = {"userName": self.user_name}
        return Landed([Write("create", "ClientPortalUsers", self.existing_id, shown)], False)


@dataclass
class ContractServiceStep(Step):
    """Put a service on the recurring contract and bring its units to the answered count."""

    contract_id: int | None = None
    contract_step: str = ""
    service_id: int = 0
    unit_price: float | None = None
    existing_id: int | None = None
    current_units: int = 0
    target_units: int = 0
    effective_date: str = ""

    async def apply(self, ctx: RunContext) -> list[Write]:
        contract_id = self.contract_id or ctx.created[self.contract_step]
        writes: list[Write] = []
        service_row_id = self.existing_id
        if service_row_id is None:
            body: dict[str, Any] = {"serviceID": self.service_id}
            if self.unit_price is not None:
                body["unitPrice"] = self.unit_price
            service_row_id = await ctx.client.create(
                "ContractServices", body, parent=Parent("Contracts", contract_id, "Services"),
                impersonate=ctx.impersonate, hooks=ctx.hooks,
            )  # fmt: skip
            writes.append(Write("create", "ContractServices", service_row_id, body))
        ctx.created[self.key] = service_row_id
        change = self.target_units - self.current_units
        if change:
            body = {
                "contractServiceID": service_row_id, "effectiveDate": self.effective_date,
                "unitChange": change,
            }  # fmt: skip
            await ctx.client.create(
                "ContractServiceAdjustments", body,
                parent=Parent("Contracts", contract_id, "ServiceAdjustments"),
                impersonate=ctx.impersonate, hooks=ctx.hooks,
            )  # fmt: skip
            writes.append(Write("create", "ContractServiceAdjustments", service_row_id, body))
        return writes

    async def landed(self, ctx: RunContext) -> Landed | None:
        """The service row, then its units: whatever landed is not sent again."""
        contract_id = self.contract_id or ctx.created[self.contract_step]
        writes: list[Write] = []
        if self.existing_id is None:
            rows = await ctx.client.query("ContractServices", [
                f("contractID").eq(contract_id), f("serviceID").eq(self.service_id),
            ], include_fields=["id"])  # fmt: skip
            if not rows:
                return None
            self.existing_id = max(int(r["id"]) for r in rows)
            writes.append(Write("create", "ContractServices", self.existing_id,
                                {"serviceID": self.service_id}))  # fmt: skip
        ctx.created[self.key] = self.existing_id
        units = await ctx.client.query(
            "ContractServiceUnits", [f("contractServiceID").eq(self.existing_id)],
            include_fields=["units"],
        )  # fmt: skip
        before, self.current_units = (
            self.current_units,
            int(units[-1].get("units") or 0) if units else 0,
        )
        if self.current_units == self.target_units:
            if before != self.target_units:
                writes.append(Write("create", "ContractServiceAdjustments", self.existing_id,
                                    {"unitChange": self.target_units - before}))  # fmt: skip
            return Landed(writes)
        return Landed(writes, complete=False)
