"""Seed step 9 from Slack: pick the contract's services, their units, and the devices of each."""

from __future__ import annotations

from typing import Any

from tests.handlers.slack.test_flow import people_page
from tests.onboarding_support import company_id
from tests.slack_harness import Harness, submit
from tests.slack_stub import (
    date_input,
    multi,
    number,
    state,
    static,
    suggestion_body,
    text_input,
)


def _service(slack: Harness, name: str) -> int:
    return next(i for i, s in slack.sandbox.tenant.table("Services").items() if s["name"] == name)


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def _managed_page(slack: Harness) -> dict[str, Any]:
    view = await people_page(slack)
    for _ in ("people", "organization", "billing"):
        view = await submit(slack, view, {"values": {}})
    assert "services" in {b.get("block_id") for b in view["blocks"]}, view
    return view


async def test_two_services_with_units_and_devices_are_applied_from_slack(slack: Harness) -> None:
    tenant = slack.sandbox.tenant
    acme = company_id(tenant, "Acme Dental")
    workstation, server = _service(slack, "Managed Workstation"), _service(slack, "Managed Server")
    view = await _managed_page(slack)
    contract = {
        "sla": static(2),
        "contract_name": text_input("Acme Dental - Managed Services"),
        "contract_start": date_input("2027-01-01"),
        "contract_end": date_input("2027-12-31"),
        "contract_period": static(1),
    }
    chosen = multi([workstation, server], "multi_static_select")

    # Choosing services redraws the page with a units field and a devices field per service.
    before = len(slack.stub.named("views.update"))
    click = slack.block_action(
        view, "services", values=state(**contract, services=chosen), element=chosen
    )
    assert (await slack.payload(click)).status == 200
    redrawn = (await slack.stub.wait_for("views.update", before + 1))[-1].args["view"]
    view = {**redrawn, "id": "V1"}
    assert _block(view, f"services.{workstation}")["label"]["text"] == (
        "Units of Managed Workstation:"
    )
    assert _block(view, f"devices.{server}")["label"]["text"] == "Devices for Managed Server:"
    assert _block(view, "contract_name")["element"]["initial_value"] == (
        "Acme Dental - Managed Services"
    )  # what was typed before the redraw is still there

    # The device pickers search the company's devices.
    reply = await slack.post(
        suggestion_body(f"devices.{workstation}", "", view["private_metadata"])
    )
    offered = [int(o["value"]) for o in reply.body["options"]]
    acme_devices = {
        i for i, d in tenant.table("ConfigurationItems").items() if d["companyID"] == acme
    }
    assert len(offered) >= 3 and set(offered) <= acme_devices
    devices = {workstation: offered[:2], server: offered[2:3]}
    units = {workstation: 12, server: 3}

    review = await submit(
        slack,
        view,
        state(
            **contract,
            services=chosen,
            **{f"services__{s}": number(n) for s, n in units.items()},
            **{f"devices__{s}": multi(ids) for s, ids in devices.items()},
        ),
    )
    assert review["callback_id"] == "onboard_review", review
    shown = str(review["blocks"])
    assert "12 x Managed Workstation" in shown and "3 x Managed Server" in shown

    await slack.payload(slack.view_submission(review, {"values": {}}))
    await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))

    [row] = [c for c in tenant.table("Contracts").values() if c["companyID"] == acme]
    services = {
        cs["serviceID"]: cs
        for cs in tenant.table("ContractServices").values()
        if cs["contractID"] == row["id"]
    }
    assert set(services) == {workstation, server}
    for service_id, count in units.items():
        cs = services[service_id]
        [unit_row] = [
            u for u in tenant.table("ContractServiceUnits").values()
            if u["contractServiceID"] == cs["id"]
        ]  # fmt: skip
        assert unit_row["units"] == count
        for device_id in devices[service_id]:
            device = tenant.get("ConfigurationItems", device_id)
            assert device is not None
            assert (device["contractID"], device["contractServiceID"], device["serviceID"]) == (
                row["id"],
                cs["id"],
                service_id,
            )
