"""Answers + what Autotask holds now -> the ordered steps that make Autotask match the answers.

Every step carries a field diff (before -> after, in display values); a step whose diff is empty
shows as "no change". The order follows the seed page, with dependencies first: Taskfire before
Taskfire-level portal users, the contract before its services, services before devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.autotask.models import Company, Parent
from services.i18n import Translator
from services.invoice_setup import bill_to_value, missing_items, note_name, todo_marker
from services.onboarding.diff import diff, label, preferred
from services.onboarding.facts import CompanyFacts
from services.onboarding.plan_contracts import ContractPlanning
from services.onboarding.request import OnboardingRequest
from services.onboarding.steps import (
    Change,
    CreateStep,
    DeleteStep,
    PatchStep,
    PortalUserStep,
    Step,
)

US_STYLE = {"US", "CA", "PH"}
EN = Translator("en")  # the note is the onboarding's record in Autotask: one language


@dataclass
class Plan:
    company_id: int
    company_name: str
    reference: str
    steps: list[Step]
    invoice_missing: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.has_changes]


def build_plan(r: OnboardingRequest, facts: CompanyFacts, *, today: date | None = None) -> Plan:
    today = today or datetime.now(UTC).date()
    company = facts.company
    cid = facts.company.id or r.company
    name = company.company_name or str(cid)
    p = _Planner(r, facts, cid, name, today)
    steps: list[Step] = []
    steps += p.company_type()
    steps += p.taskfire()
    steps += p.parent()
    steps += p.children()
    steps += p.team()
    steps += p.primary_contact()
    steps += p.portal_users()
    invoice, after = p.invoice()
    steps += invoice
    if r.client_type == "managed":
        steps += p.managed_contract()
    else:
        steps += p.break_fix_contracts()
    missing = missing_items(after, facts.lookups.picklists["bill_to_address"])
    steps += p.note(missing)
    steps += p.todos(missing)
    return Plan(cid, name, r.reference, steps, missing)


class _Planner(ContractPlanning):
    def __init__(self, r: OnboardingRequest, facts: CompanyFacts, cid: int, name: str, today: date):
        self.r, self.facts, self.cid, self.name, self.today = r, facts, cid, name, today
        self.lk = facts.lookups
        self.company_api = facts.company.model_dump(by_alias=True)

    def _person(self, resource_id: int) -> str:
        resource = self.lk.resources.get(resource_id)
        return resource.full_name if resource else f"#{resource_id}"

    def _contact(self, contact_id: int | None) -> str:
        contact = self.facts.contacts.get(contact_id or 0)
        if contact is None:
            return f"#{contact_id}"
        return contact.full_name

    def _company_patch(self, key: str, kind: str, target: dict[str, Any], show: dict[str, Any],
                       **params: Any) -> PatchStep:  # fmt: skip
        changes = diff(self.company_api, target, show)
        fields = {c.field: target[c.field] for c in changes}
        return PatchStep(
            key, kind, {"company": self.name, **params}, changes, "Companies", self.cid, fields
        )

    # ----- all clients ------------------------------------------------------------------------

    def company_type(self) -> list[Step]:
        if not self.r.convert_to_customer:
            return []
        types = self.lk.picklists["company_type"]
        customer = types.id_for("Customer")
        show = {"companyType": lambda v: label(types, v)}
        return [
            self._company_patch("company_type", "company_type", {"companyType": customer}, show)
        ]

    def taskfire(self) -> list[Step]:
        if not self.r.taskfire:
            return []
        return [self._company_patch("taskfire", "taskfire", {"isTaskFireActive": True}, {})]

    def parent(self) -> list[Step]:
        if self.r.parent_company is None:
            return []
        parent = self.facts.related.get(self.r.parent_company)
        names = {self.r.parent_company: parent.company_name if parent else None}
        if self.facts.company.parent_company_id in self.facts.related:
            names[self.facts.company.parent_company_id] = self.facts.related[
                self.facts.company.parent_company_id
            ].company_name
        show = {"parentCompanyID": lambda v: names.get(v, v) if v is not None else None}
        return [self._company_patch("parent", "parent", {"parentCompanyID": self.r.parent_company}, show,
                                    parent=names[self.r.parent_company])]  # fmt: skip

    def children(self) -> list[Step]:
        steps: list[Step] = []
        for child_id in self.r.child_companies:
            child = self.facts.related.get(child_id) or Company(id=child_id)
            target = {"parentCompanyID": self.cid}
            changes = diff(child.model_dump(by_alias=True), target,
                            {"parentCompanyID": lambda v: self.name if v == self.cid else v})  # fmt: skip
            fields = {c.field: target[c.field] for c in changes}
            steps.append(PatchStep(f"child:{child_id}", "child",
                                   {"company": self.name, "child": child.company_name}, changes,
                                   "Companies", child_id, fields))  # fmt: skip
        return steps

    def team(self) -> list[Step]:
        steps: list[Step] = []
        company = Parent("Companies", self.cid, "Teams")
        for rid in self.r.team_remove:
            row = self.facts.team.get(rid)
            changes = [Change("resourceID", self._person(rid), None)] if row else []
            steps.append(DeleteStep(f"team_remove:{rid}", "team_remove", {"person": self._person(rid)},
                                    changes, "CompanyTeams", row.id if row and row.id else 0, company))  # fmt: skip
        for rid in self.r.team_add:
            changes = (
                [] if rid in self.facts.team else [Change("resourceID", None, self._person(rid))]
            )
            steps.append(CreateStep(f"team_add:{rid}", "team_add", {"person": self._person(rid)}, changes,
                                    "CompanyTeams", {"resourceID": rid, "isAssociatedAsComanaged": False},
                                    company))  # fmt: skip
        return steps

    def primary_contact(self) -> list[Step]:
        contact_id = self.r.primary_contact
        if contact_id is None:
            return []
        contact = self.facts.contacts[contact_id]
        changes = [] if contact.primary_contact else [Change("primaryContact", False, True)]
        return [PatchStep(f"primary_contact:{contact_id}", "primary_contact",
                          {"contact": self._contact(contact_id)}, changes, "Contacts", contact_id,
                          {"primaryContact": True} if changes else {},
                          Parent("Companies", self.cid, "Contacts"))]  # fmt: skip

    def portal_users(self) -> list[Step]:
        if not self.r.portal_contacts:
            return []
        pl = self.lk.picklists
        country = self.lk.countries.get(self.facts.company.country_id or 0)
        us = (country.country_code if country else "US") in US_STYLE
        target = {
            "securityLevel": self.r.portal_security_level or preferred(pl["portal_security_level"], "client portal user"),
            "dateFormat": self.r.portal_date_format or preferred(pl["portal_date_format"], "mm/dd/yyyy" if us else "dd/mm/yyyy"),
            "numberFormat": self.r.portal_number_format or preferred(pl["portal_number_format"], "x,xxx.xx" if us else "x.xxx,xx"),
            "timeFormat": self.r.portal_time_format or preferred(pl["portal_time_format"], "hh:mm a" if us else "hh:mm"),
            "isClientPortalActive": True,
        }  # fmt: skip
        show = {
            "securityLevel": lambda v: label(pl["portal_security_level"], v),
            "dateFormat": lambda v: label(pl["portal_date_format"], v),
            "numberFormat": lambda v: label(pl["portal_number_format"], v),
            "timeFormat": lambda v: label(pl["portal_time_format"], v),
        }
        steps: list[Step] = []
        for contact_id in self.r.portal_contacts:
            contact = self.facts.contacts[contact_id]
            existing = self.facts.portal_users.get(contact_id)
            user_name = (existing.user_name if existing else None) or contact.email_address or ""
            if existing is None:
                changes = [Change("userName", None, user_name), *diff({}, target, show)]
                fields = dict(target)
            else:
                changes = diff(existing.model_dump(by_alias=True), target, show)
                fields = {c.field: target[c.field] for c in changes}
            steps.append(PortalUserStep(
                f"portal_user:{contact_id}", "portal_user", {"contact": self._contact(contact_id)},
                changes, contact_id, self._contact(contact_id), user_name, fields,
                existing.id if existing else None,
            ))  # fmt: skip
        return steps

    def invoice(self) -> tuple[list[Step], Company]:
        r, lk = self.r, self.lk
        bill_to = lk.picklists["bill_to_address"]
        target: dict[str, Any] = {}
        if r.invoice_template is not None:
            target["invoiceTemplateID"] = r.invoice_template
        if r.tax_exempt:
            target["isTaxExempt"] = True
        if r.tax_region is not None:
            target["taxRegionID"] = r.tax_region
        if r.tax_id is not None:
            target["taxID"] = r.tax_id
        kind = "parent" if r.bill_to_parent and r.bill_to in ("later", "parent") else r.bill_to
        if kind != "later":
            value = bill_to_value(bill_to, kind)
            if value is not None:
                target["billToAddressToUse"] = value
        if r.bill_to_parent:
            target["invoiceNonContractItemsToParentCompany"] = True
        if r.bill_to == "other":
            target |= {
                "billingAddress1": r.billing_address1, "billingAddress2": r.billing_address2,
                "billToCity": r.billing_city, "billToState": r.billing_state,
                "billToZipCode": r.billing_zip, "billToCountryID": r.billing_country,
            }  # fmt: skip
            target = {k: v for k, v in target.items() if v is not None}
        if r.attention_contact is not None:
            target["billToAttention"] = self._contact(r.attention_contact)
        show = {
            "invoiceTemplateID": lambda v: (
                lk.invoice_templates[v].name if v in lk.invoice_templates else v
            ),
            "taxRegionID": lambda v: lk.tax_regions[v].name if v in lk.tax_regions else v,
            "billToAddressToUse": lambda v: label(bill_to, v),
            "billToCountryID": lambda v: lk.countries[v].name if v in lk.countries else v,
        }
        # The company as it will be after the whole plan: the parent link counts for "bill the parent".
        update = Company.model_validate(target).model_dump(exclude_unset=True)
        if r.parent_company is not None:
            update["parent_company_id"] = r.parent_company
        after = self.facts.company.model_copy(update=update)
        if not target:
            return [], after
        return [self._company_patch("invoice", "invoice", target, show)], after

    # ----- record of the onboarding in Autotask -------------------------------------------------

    def note(self, missing: list[str]) -> list[Step]:
        # The note's name carries the onboarding's reference: that is how a re-run finds it.
        name = note_name(self.r.reference)
        exists = any((n.name or "").strip() == name for n in self.facts.notes)
        action = preferred(self.lk.picklists["note_action_type"], "onboarding")
        when = f"{self.today.isoformat()}T00:00:00Z"
        body = {
            "name": name, "note": self._summary(missing), "actionType": action,
            # Autotask requires an assignee and a start and end; the account manager owns the client.
            "assignedResourceID": self.facts.company.owner_resource_id,
            "startDateTime": when, "endDateTime": when,
        }  # fmt: skip
        changes = [] if exists else [Change("name", None, name)]
        return [CreateStep("note", "note", {"company": self.name}, changes, "CompanyNotes", body,
                           Parent("Companies", self.cid, "Notes"))]  # fmt: skip

    def todos(self, missing: list[str]) -> list[Step]:
        if not missing:
            return []
        owner = self.facts.company.owner_resource_id
        owners = (
            self.r.billing_admins or self.lk.default_billing_admins or ([owner] if owner else [])
        )
        marker = todo_marker(self.r.reference)
        action = preferred(self.lk.picklists["todo_action_type"], "billing follow-up")
        steps: list[Step] = []
        for rid in owners:
            exists = any(
                (t.activity_description or "").startswith(marker)
                and t.assigned_to_resource_id == rid
                for t in self.facts.todos
            )
            body = {
                "assignedToResourceID": rid, "actionType": action,
                "activityDescription": f"{marker} Complete the invoice setup of {self.name}: "
                + ", ".join(m.replace("_", " ") for m in missing) + ".",
                "startDateTime": f"{self.today.isoformat()}T00:00:00Z",
                "endDateTime": f"{(self.today + timedelta(days=3)).isoformat()}T00:00:00Z",
            }  # fmt: skip
            changes = [] if exists else [Change("assignedToResourceID", None, self._person(rid))]
            steps.append(CreateStep(f"todo:{rid}", "todo", {"person": self._person(rid)}, changes,
                                    "CompanyToDos", body, Parent("Companies", self.cid, "ToDos")))  # fmt: skip
        return steps

    def _summary(self, missing: list[str]) -> str:
        r = self.r
        lines = [
            f"Client type: {'managed services' if r.client_type == 'managed' else 'break/fix'}",
            *self._playbook(),
            f"Account team added: {', '.join(self._person(i) for i in r.team_add) or '-'}",
            f"Account team removed: {', '.join(self._person(i) for i in r.team_remove) or '-'}",
            f"Primary contact: {self._contact(r.primary_contact) if r.primary_contact else '-'}",
            f"Client Portal users: {', '.join(self._contact(c) for c in r.portal_contacts) or '-'}",
            f"Taskfire: {'enabled' if r.taskfire else 'unchanged'}",
            f"Invoice setup: {'complete' if not missing else 'pending: ' + ', '.join(missing)}",
        ]
        if r.client_type == "managed":
            lines.append(
                f"Recurring service contract: {r.contract_name} ({r.contract_start} - {r.contract_end})"
            )
        for contract in r.billing_contracts:
            lines.append(f"Billing contract: {contract.name} ({contract.start} - {contract.end})")
        return "\n".join(lines)

    def _playbook(self) -> list[str]:
        r = self.r
        if r.playbook is None:
            return []
        lines = [f"Playbook: {r.playbook_title or r.playbook} ({r.playbook})"]
        if r.playbook_changed:
            labels = (EN(f"q.{q}.label") for q in r.playbook_changed)
            lines.append(f"Answered otherwise than the playbook: {', '.join(labels)}")
        return lines
