"""Device offers over signed requests into the real Bolt app, with the Slack Web API stub: the
DM, Attach as suggested (acked at once, the DM updated with the outcome), a stranger refused,
Review's errors, and the DM in Spanish."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from services.autotask.sandbox import Tenant
from tests.onboarding_support import company_id, submitted
from tests.services.devices.support import device_answers
from tests.slack_harness import Harness, running_bot
from tests.slack_stub import button_value, message_click, shown_state

EVERY_DAY: dict[str, Any] = {
    "reminder_hours": "00:00-23:59", "reminder_weekdays": "mon,tue,wed,thu,fri,sat,sun",
    "device_sweep_minutes": 0.001,
}  # fmt: skip
EMAILS = {"U1": "marta.ruiz@brightline-it.example", "U2": "dan.okafor@brightline-it.example"}


@asynccontextmanager
async def offered(tmp_path: Path, requester: str = "U1", locale: str = "en") -> AsyncIterator[
    tuple[Harness, dict[str, Any], dict[str, int]]
]:  # fmt: skip
    """A managed onboarding applied by ``requester``, then two devices from the RMM and a sweep:
    the harness, the offer's DM and the new devices by title."""
    async with running_bot(tmp_path, **EVERY_DAY) as slack:
        new = await _applied_then_new_devices(slack, requester, locale)
        assert slack.container.devices is not None
        result = await slack.container.devices.sweep()
        assert result.offers == 1, result
        [dm] = [m.args for m in slack.stub.named("chat.postMessage")
                if "devices_complete" in str(m.args.get("blocks"))]  # fmt: skip
        yield slack, dm, new


async def _applied_then_new_devices(slack: Harness, requester: str, locale: str) -> dict[str, int]:
    """A managed onboarding applied by ``requester``, then two devices from the RMM; the follow-up
    is due. The new devices by title."""
    c = slack.container
    tenant: Tenant = slack.sandbox.tenant
    onboarding_id, preview = await submitted(
        c.runner, device_answers(tenant), platform="slack", requested_by=requester,
        meta={"locale": locale, "requester_email": EMAILS[requester], "origin": {}},
    )  # fmt: skip
    assert onboarding_id is not None, preview.issues
    assert (await c.onboarding.runs.run(onboarding_id, fresh=True)).status == "applied"
    cid = company_id(tenant, "Acme Dental")
    new = {title: _device(tenant, cid, title, kind)
           for title, kind in (("WS-RMM-01", 1), ("SRV-RMM-01", 2))}  # fmt: skip
    await asyncio.sleep(0.1)  # the follow-up is due
    return new


async def test_an_offer_whose_dm_failed_is_sent_by_the_next_sweep_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, **EVERY_DAY) as slack:
        await _applied_then_new_devices(slack, "U1", "en")
        devices = slack.container.devices
        assert devices is not None
        slack.stub.not_in_channel.add("DU1")  # Slack refuses the DM
        await devices.sweep()
        assert not _device_dms(slack)
        slack.stub.not_in_channel.clear()
        await asyncio.sleep(0.1)  # the follow-up is due again; no new device since
        again = await devices.sweep()
        assert again.resent == 1 and again.offers == 0
        [dm] = _device_dms(slack)
        assert dm["channel"] == "DU1" and "WS-RMM-01" in str(dm["blocks"])
        await asyncio.sleep(0.1)
        assert (await devices.sweep()).resent == 0  # sent once
        assert len(_device_dms(slack)) == 1


def _device_dms(slack: Harness) -> list[dict[str, Any]]:
    return [m.args for m in slack.stub.named("chat.postMessage")
            if "devices_complete" in str(m.args.get("blocks")) and m.reply.get("ok")]  # fmt: skip


def _device(tenant: Tenant, company: int, title: str, kind: int) -> int:
    return tenant.create("ConfigurationItems", {
        "companyID": company, "productID": 100 + kind, "isActive": True,
        "referenceTitle": title, "configurationItemType": kind,
    })  # fmt: skip


def _ci(slack: Harness, device: int) -> dict[str, Any]:
    return dict(slack.sandbox.tenant.get("ConfigurationItems", device) or {})


async def test_attach_as_suggested_acks_at_once_and_the_dm_shows_what_was_attached(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path) as (slack, dm, new):
        assert dm["channel"] == "DU1"
        assert "Managed Workstation" in str(dm["blocks"]) and "WS-RMM-01" in str(dm["blocks"])
        offer = button_value(dm["blocks"], "devices_attach")
        reply = await slack.payload(message_click("devices_attach", offer, channel_id="DU1"))
        assert reply.status == 200 and reply.seconds < 3
        done = await slack.stub.wait_until(
            "chat.update", lambda a: "Attached 2 device(s)" in str(a.get("blocks"))
        )
        assert "Units of Managed Server: 3 → 4" in str(done.args["blocks"])
        updates = {(c.args["channel"], c.args["ts"]) for c in slack.stub.named("chat.update")
                   if "devices_complete" in str(c.args.get("blocks"))}  # fmt: skip
        assert len(updates) == 1 and done.args["channel"] == "DU1"  # the offer's DM, in place
        assert all(_ci(slack, d).get("contractServiceID") for d in new.values())


async def test_a_stranger_pressing_attach_is_refused_and_nothing_is_attached(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path) as (slack, dm, new):
        offer = button_value(dm["blocks"], "devices_attach")
        await slack.payload(message_click("devices_attach", offer, user_id="U3", channel_id="DU1"))
        told = await slack.stub.wait_for("chat.postEphemeral")
        assert told[0].args["user"] == "U3"
        assert "Only the onboarding's requester" in told[0].args["text"]
        await slack.payload(message_click("devices_complete", offer, user_id="U3"))
        await slack.stub.wait_for("chat.postEphemeral", 2)
        assert not any(_ci(slack, d).get("contractServiceID") for d in new.values())
        assert slack.container.devices is not None
        card = await slack.container.devices.card(int(offer))
        assert card.state == "offered"  # the follow-up goes on


async def test_review_says_which_device_needs_a_choice_and_attaches_the_chosen_services(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path) as (slack, dm, new):
        offer = button_value(dm["blocks"], "devices_review")
        await slack.payload(message_click("devices_review", offer, channel_id="DU1"))
        [opened] = await slack.stub.wait_for("views.open")
        view = opened.args["view"]
        await slack.stub.wait_for("views.update")  # the preview, once Autotask was read
        preview = slack.stub.named("views.update")[-1].args["view"]
        assert "Units of Managed Workstation: 3 → 4" in str(preview["blocks"])
        values = shown_state(view)
        ws_block = f"device_{new['WS-RMM-01']}"
        values["values"][ws_block]["devices_choice"]["selected_option"] = None  # unchosen
        reply = await slack.payload(slack.view_submission(view, values))
        assert reply.body["response_action"] == "errors"
        assert reply.body["errors"] == {ws_block: "Choose a service for this device, or skip it."}
        assert not _ci(slack, new["SRV-RMM-01"]).get("contractServiceID")  # nothing written

        values["values"][ws_block]["devices_choice"]["selected_option"] = {"value": "skip"}
        reply = await slack.payload(slack.view_submission(view, values))
        assert reply.status == 200 and not reply.body  # closed: the DM shows the rest
        await slack.stub.wait_until(
            "chat.update", lambda a: "Attached 1 device(s)" in str(a.get("blocks"))
        )
        assert _ci(slack, new["SRV-RMM-01"]).get("contractServiceID")
        assert not _ci(slack, new["WS-RMM-01"]).get("contractServiceID")  # skipped
        shown = str(slack.stub.named("chat.update")[-1].args["blocks"])
        assert "Not attached: WS-RMM-01 (skipped in Review)" in shown


async def test_not_a_managed_device_takes_the_devices_off_the_offer_for_good(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path) as (slack, dm, new):
        offer = button_value(dm["blocks"], "devices_not_managed")
        await slack.payload(message_click("devices_not_managed", offer, channel_id="DU1"))
        await slack.stub.wait_until(
            "chat.update", lambda a: "marked as not managed" in str(a.get("blocks"))
        )
        assert not any(_ci(slack, d).get("contractID") for d in new.values())
        await asyncio.sleep(0.1)
        assert slack.container.devices is not None
        assert (await slack.container.devices.sweep()).offers == 0  # never offered again


async def test_the_offer_reaches_a_spanish_speaking_requester_in_spanish(tmp_path: Path) -> None:
    async with offered(tmp_path, requester="U2", locale="es") as (slack, dm, _):
        assert dm["channel"] == "DU2"
        shown = str(dm["blocks"])
        assert "Vincular como se sugiere" in shown and "Despliegue terminado" in shown
        assert "Sugerido: Managed Workstation" in shown
        offer = button_value(dm["blocks"], "devices_complete")
        await slack.payload(message_click("devices_complete", offer, user_id="U2"))
        await slack.stub.wait_until("chat.update", lambda a: "ha terminado" in str(a.get("blocks")))


async def test_a_review_submitted_while_autotask_is_slow_is_answered_within_3_seconds(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path) as (slack, dm, new):
        offer = button_value(dm["blocks"], "devices_review")
        await slack.payload(message_click("devices_review", offer, channel_id="DU1"))
        [opened] = await slack.stub.wait_for("views.open")
        await slack.stub.wait_for("views.update")  # Review has read the contract's services
        view = opened.args["view"]
        slack.sandbox.latency = 3.5  # every Autotask call now takes longer than Slack waits
        reply = await slack.payload(slack.view_submission(view, shown_state(view)))
        slack.sandbox.latency = 0.0
        assert reply.status == 200 and reply.seconds < 3, reply.seconds
        assert not reply.body  # checked and closed: the DM shows the attach
        await slack.stub.wait_until(
            "chat.update", lambda a: "Attached 2 device(s)" in str(a.get("blocks"))
        )
        assert all(_ci(slack, d).get("contractServiceID") for d in new.values())
