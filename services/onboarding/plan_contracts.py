"""Planning the contracts: the recurring service contract with its services, units and devices
(managed services), or the billing contracts (break/fix). Mixed into the planner."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.autotask.models import Contract
from services.onboarding.diff import diff, label, preferred
from services.onboarding.facts import CompanyFacts, Lookups
from services.onboarding.request import OnboardingRequest
from services.onboarding.steps import Change, ContractServiceStep, CreateStep, PatchStep, Step


class ContractPlanning:
    r: OnboardingRequest
    facts: CompanyFacts
    lk: Lookups
    cid: int

    # ----- managed services -------------------------------------------------------------------

    def _contract_step(self, key: str, kind: str, name: str, contract_type: int, start: date, end: date,
                       sla: int | None, period: int | None) -> tuple[Step, int | None]:  # fmt: skip
        pl = self.lk.picklists
        existing = _find_contract(self.facts.contracts, name, contract_type)
        target: dict[str, Any] = {
            "startDate": f"{start.isoformat()}T00:00:00Z", "endDate": f"{end.isoformat()}T00:00:00Z",
            "status": preferred(pl["contract_status"], "active"),
        }  # fmt: skip
        if sla is not None:
            target["serviceLevelAgreementID"] = sla
        if period is not None:
            target["contractPeriodType"] = period
        show = {
            "serviceLevelAgreementID": lambda v: label(pl["sla"], v),
            "contractPeriodType": lambda v: label(pl["contract_period"], v),
            "status": lambda v: label(pl["contract_status"], v),
            "contractType": lambda v: label(pl["contract_type"], v),
            "startDate": lambda v: str(v)[:10] if v else v,
            "endDate": lambda v: str(v)[:10] if v else v,
        }
        params = {"name": name, "type": label(pl["contract_type"], contract_type),
                  "sla": label(pl["sla"], sla) or "-"}  # fmt: skip
        if existing is None:
            body = {"companyID": self.cid, "contractName": name, "contractType": contract_type,
                    "timeReportingRequiresStartAndStopTimes": 1, **target}  # fmt: skip
            changes = [
                Change("contractName", None, name),
                *diff({}, {"contractType": contract_type, **target}, show),
            ]
            return CreateStep(key, kind, params, changes, "Contracts", body), None
        changes = diff(existing.model_dump(by_alias=True), target, show)
        fields = {c.field: target[c.field] for c in changes}
        return PatchStep(
            key, kind, params, changes, "Contracts", existing.id or 0, fields
        ), existing.id

    def managed_contract(self) -> list[Step]:
        r, pl = self.r, self.lk.picklists
        assert r.contract_name and r.contract_start and r.contract_end
        recurring = pl["contract_type"].id_for("Recurring Service")
        contract_step, contract_id = self._contract_step(
            "contract", "contract", r.contract_name, recurring, r.contract_start, r.contract_end,
            r.sla, r.contract_period,
        )  # fmt: skip
        steps: list[Step] = [contract_step]
        existing_services = {
            cs.service_id: cs for cs in self.facts.contract_services.get(contract_id or -1, [])
        }
        for service_id, units in r.services.items():
            service = self.lk.services[service_id]
            row = existing_services.get(service_id)
            current = self.facts.units.get(row.id or 0, 0) if row else 0
            changes = [] if row else [Change("serviceID", None, service.name)]
            if current != units:
                changes.append(Change("units", current, units))
            steps.append(ContractServiceStep(
                f"contract_service:{service_id}", "contract_service",
                {"service": service.name, "units": units}, changes,
                contract_id=contract_id, contract_step="contract", service_id=service_id,
                unit_price=service.unit_price, existing_id=row.id if row else None,
                current_units=current, target_units=units,
                effective_date=f"{r.contract_start.isoformat()}T00:00:00Z",
            ))  # fmt: skip
        for service_id, device_ids in r.devices.items():
            service = self.lk.services[service_id]
            row = existing_services.get(service_id)
            for device_id in device_ids:
                device = self.facts.devices[device_id]
                target: dict[str, Any] = {"serviceID": service_id, "serviceLevelAgreementID": r.sla}
                from_run: dict[str, str] = {}
                if contract_id is not None:
                    target["contractID"] = contract_id
                else:
                    from_run["contractID"] = "contract"
                if row is not None and row.id is not None:
                    target["contractServiceID"] = row.id
                else:
                    from_run["contractServiceID"] = f"contract_service:{service_id}"
                device_now = device.model_dump(by_alias=True)
                show = {"serviceID": lambda v: self.lk.services[v].name if v in self.lk.services else v,
                        "serviceLevelAgreementID": lambda v: label(pl["sla"], v)}  # fmt: skip
                changes = diff(device_now, target, show)
                for api_field in from_run:
                    changes.append(Change(api_field, device_now.get(api_field), "(new)"))
                fields = {c.field: target[c.field] for c in changes if c.field in target}
                steps.append(PatchStep(
                    f"device:{device_id}", "device",
                    {"device": device.reference_title or f"#{device_id}", "service": service.name},
                    changes, "ConfigurationItems", device_id, fields, from_run=from_run,
                ))  # fmt: skip
        return steps

    # ----- break/fix --------------------------------------------------------------------------

    def break_fix_contracts(self) -> list[Step]:
        steps: list[Step] = []
        for i, contract in enumerate(self.r.billing_contracts):
            step, _ = self._contract_step(
                f"billing_contract:{i}", "billing_contract", contract.name, contract.type,
                contract.start, contract.end, self.r.bf_sla, None,
            )  # fmt: skip
            steps.append(step)
        return steps


def _find_contract(contracts: list[Contract], name: str, contract_type: int) -> Contract | None:
    wanted = name.strip().casefold()
    return next(
        (
            c
            for c in contracts
            if (c.contract_name or "").strip().casefold() == wanted
            and c.contract_type == contract_type
        ),
        None,
    )
