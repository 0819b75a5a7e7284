"""Device offers in Teams, through the local Bot Connector and the real ``/api/messages``: the
proactive card a sweep sends a Teams requester, Attach as suggested (answered within Teams' 5 s,
the card updated in place with what was attached and the units), Review's card (a choice per
device, problems shown on the card with the choices kept), a stranger refused, Snooze, Rollout
complete, and the card in Spanish."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from services.autotask.sandbox import Tenant
from tests.handlers.teams.form_support import checked, execute, inputs, texts
from tests.handlers.teams.reading import card_of
from tests.handlers.teams.test_reminder_card import actions
from tests.onboarding_support import company_id, submitted
from tests.services.devices.support import contract_services, device_answers, units
from tests.teams_harness import MEMBERS, Harness, running_bot
from tests.teams_stub import (
    ADAPTIVE,
    DAN,
    MARTA,
    MAX_ACTIVITY_BYTES,
    Sent,
    bot_added,
    card_problems,
    personal_chat,
)

EVERY_DAY: dict[str, Any] = {
    "reminder_hours": "00:00-23:59", "reminder_weekdays": "mon,tue,wed,thu,fri,sat,sun",
    "device_sweep_minutes": 0.001,
}  # fmt: skip


@asynccontextmanager
async def offered(tmp_path: Path, requester: str = MARTA, locale: str = "en-US",
                  more: int = 0) -> AsyncIterator[
    tuple[Harness, Sent, dict[str, int]]
]:  # fmt: skip
    """A Teams requester (who has the app) whose managed onboarding was applied; then two devices
    from the RMM and a sweep: the harness, the card sent and the new devices by title."""
    async with running_bot(tmp_path, **EVERY_DAY) as teams:
        await teams.post(bot_added(teams.stub.url, user_id=requester, locale=locale))
        await teams.settle()
        c = teams.container
        tenant: Tenant = teams.sandbox.tenant
        onboarding_id, preview = await submitted(
            c.runner, device_answers(tenant), platform="teams", requested_by=requester,
            meta={"locale": locale[:2], "requester_email": MEMBERS[requester]["email"],
                  "origin": {}},
        )  # fmt: skip
        assert onboarding_id is not None, preview.issues
        assert (await c.onboarding.runs.run(onboarding_id, fresh=True)).status == "applied"
        cid = company_id(tenant, "Acme Dental")
        new = {title: _device(tenant, cid, title, kind)
               for title, kind in (("WS-RMM-01", 1), ("SRV-RMM-01", 2))}  # fmt: skip
        new |= {f"WS-BULK-{i:02}": _device(tenant, cid, f"WS-BULK-{i:02}", 1) for i in range(more)}
        await asyncio.sleep(0.1)  # the follow-up is due
        assert c.devices is not None
        result = await c.devices.sweep()
        assert result.offers == 1, result
        [sent] = cards_in(teams, requester)
        assert sent.kind == "send"
        yield teams, sent, new


def _device(tenant: Tenant, company: int, title: str, kind: int) -> int:
    return tenant.create("ConfigurationItems", {
        "companyID": company, "productID": 100 + kind, "isActive": True,
        "referenceTitle": title, "configurationItemType": kind,
    })  # fmt: skip


def cards_in(teams: Harness, user: str) -> list[Sent]:
    """The device card's messages in the user's personal chat (the onboarding's run and invoice
    reminder have cards of their own there)."""
    chat = personal_chat(user)["id"]
    mine = [s for s in teams.stub.sent if s.conversation_id == chat]
    offers = {s.activity_id for s in mine if s.kind == "send" and "devices_" in str(s.activity)}
    return [s for s in mine if s.activity_id in offers]


def latest(teams: Harness, user: str = MARTA) -> dict[str, Any]:
    first, *later = cards_in(teams, user)
    if later:  # every change is the same message, updated in place
        assert all(s.kind == "update" and s.activity_id == first.activity_id for s in later)
    return card_of(later[-1] if later else first)


def shown(reply: Any) -> dict[str, Any]:
    """The card an Action.Execute answered with (Teams shows it to the presser, in place)."""
    assert reply.body["statusCode"] == 200 and reply.body["type"] == ADAPTIVE, reply.body
    card: dict[str, Any] = reply.body["value"]
    assert not card_problems(card), card_problems(card)
    assert len(json.dumps(reply.body)) < MAX_ACTIVITY_BYTES  # what Teams accepts
    return card


def service_of(tenant: Tenant, device: int) -> int | None:
    value = (tenant.get("ConfigurationItems", device) or {}).get("contractServiceID")
    return int(value) if value else None


async def press(teams: Harness, verb: str, offer: dict[str, Any], user: str = MARTA,
                locale: str = "en-US", **inputs: str) -> Any:  # fmt: skip
    return checked(await teams.post(execute(verb, {**offer, **inputs}, teams.stub.url,
                                            user_id=user, locale=locale)))  # fmt: skip


async def test_attach_as_suggested_ties_the_devices_and_the_card_shows_the_outcome(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path) as (teams, sent, new):
        card = card_of(sent)
        words = " ".join(texts(card))
        assert "2 new device(s) of Acme Dental are not on the contract" in words
        assert "Suggested: Managed Server" in words and "Suggested: Managed Workstation" in words
        assert "• WS-RMM-01 (Workstation)" in words and "• SRV-RMM-01 (Server)" in words
        titles = {a["title"] for a in card["actions"]}
        assert titles == {"Attach as suggested", "Review", "Not a managed device",
                          "Rollout complete", "Snooze", "Open in Autotask"}  # fmt: skip
        tenant = teams.sandbox.tenant
        services = contract_services(tenant, company_id(tenant, "Acme Dental"))
        server = services["Managed Server"]

        attach = actions(card)["devices_attach"]
        reply = await press(teams, attach["verb"], attach["data"])
        assert "Attaching the devices in Autotask" in " ".join(texts(shown(reply)))
        await teams.settle()  # the run goes on after the answer

        done = " ".join(texts(latest(teams)))
        assert "Attached 2 device(s)" in done and "SRV-RMM-01 → Managed Server" in done
        assert "Units of Managed Server: 3 → 4." in done
        assert service_of(tenant, new["SRV-RMM-01"]) == server["id"]
        assert service_of(tenant, new["WS-RMM-01"]) == services["Managed Workstation"]["id"]
        assert units(tenant, server["id"]) == 4


async def test_review_attaches_exactly_the_changed_service_and_skips_the_skipped_device(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path) as (teams, sent, new):
        tenant = teams.sandbox.tenant
        services = contract_services(tenant, company_id(tenant, "Acme Dental"))
        workstation = str(services["Managed Workstation"]["serviceID"])
        ws, srv = f"device_{new['WS-RMM-01']}", f"device_{new['SRV-RMM-01']}"
        review = actions(card_of(sent))["devices_review"]

        form = shown(await press(teams, review["verb"], review["data"]))
        fields = inputs(form)
        assert set(fields) == {ws, srv} and fields[ws]["type"] == "Input.ChoiceSet"
        assert fields[ws]["value"] == workstation  # the suggestion, preselected
        assert {c["title"] for c in fields[srv]["choices"]} >= {
            "Managed Server",
            "Skip (do not attach now)",
        }
        assert "Units of Managed Workstation: 3 → 4 (counted per device)." in texts(form)  # preview

        submit = actions(form)["devices_review_submit"]
        # the server moved to the workstation service; the workstation left unchosen
        again = shown(await press(teams, submit["verb"], submit["data"], **{srv: workstation,
                                                                          ws: ""}))  # fmt: skip
        assert "Choose a service for this device, or skip it." in texts(again)
        assert inputs(again)[srv]["value"] == workstation  # what was chosen is kept
        assert service_of(tenant, new["SRV-RMM-01"]) is None  # nothing written
        assert len(cards_in(teams, MARTA)) == 1  # the offer itself untouched

        reply = await press(teams, submit["verb"], submit["data"], **{srv: workstation, ws: "skip"})
        assert "Attaching the devices in Autotask" in " ".join(texts(shown(reply)))
        await teams.settle()
        done = " ".join(texts(latest(teams)))
        assert "Attached 1 device(s): SRV-RMM-01 → Managed Workstation." in done
        assert "Not attached: WS-RMM-01 (skipped in Review)." in done
        assert service_of(tenant, new["SRV-RMM-01"]) == services["Managed Workstation"]["id"]
        assert service_of(tenant, new["WS-RMM-01"]) is None


async def test_a_stranger_is_refused_and_the_card_is_unchanged(tmp_path: Path) -> None:
    async with offered(tmp_path) as (teams, sent, new):
        card = actions(card_of(sent))
        for verb in ("devices_attach", "devices_review", "devices_complete", "devices_snooze_week"):
            reply = await press(teams, verb, card[verb]["data"], user=DAN, locale="es-ES")
            assert reply.body["type"] == "application/vnd.microsoft.activity.message"
            assert reply.body["value"].startswith("Solo quien solicitó la incorporación"), (
                reply.body
            )
        await teams.settle()
        assert len(cards_in(teams, MARTA)) == 1  # never updated
        assert not any(service_of(teams.sandbox.tenant, d) for d in new.values())
        assert teams.container.devices is not None
        offer = int(card["devices_attach"]["data"]["offer"])
        assert (await teams.container.devices.card(offer)).state == "offered"


async def test_snooze_then_rollout_complete_update_the_card_in_place(tmp_path: Path) -> None:
    async with offered(tmp_path) as (teams, sent, _):
        card = actions(card_of(sent))
        snoozed = shown(
            await press(teams, "devices_snooze_week", card["devices_snooze_week"]["data"])
        )
        assert any(x.startswith("Snoozed until") for x in texts(snoozed))
        assert any(x.startswith("Snoozed until") for x in texts(latest(teams)))

        ended = shown(await press(teams, "devices_complete", card["devices_complete"]["data"]))
        expected = ("The device follow-up of Acme Dental has ended: the rollout was marked "
                    "complete.")  # fmt: skip
        assert texts(ended)[0] == expected and texts(latest(teams))[0] == expected
        assert {a["type"] for a in latest(teams).get("actions", [])} == {"Action.OpenUrl"}
        again = await press(teams, "devices_attach", card["devices_attach"]["data"])
        assert (
            again.body["value"]
            == "These devices were already dealt with, or the follow-up has ended."
        )


async def test_a_spanish_speaking_requester_gets_the_card_and_review_in_spanish(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path, requester=DAN, locale="es-ES") as (teams, sent, _):
        card = card_of(sent)
        words = " ".join(texts(card))
        assert "Sugerido: Managed Workstation" in words
        titles = {a["title"] for a in card["actions"]}
        assert {"Vincular como se sugiere", "Despliegue terminado", "Posponer"} <= titles
        review = actions(card)["devices_review"]
        form = shown(await press(teams, review["verb"], review["data"], user=DAN, locale="es-ES"))
        assert {a["title"] for a in form["actions"]} == {"Vincular", "Volver"}


async def test_a_large_rollout_fits_teams_card_limits_and_says_how_many_more(
    tmp_path: Path,
) -> None:
    async with offered(tmp_path, more=40) as (teams, sent, new):  # 42 devices
        words = texts(card_of(sent))  # the stub fails the test if the message is over 28 KB
        assert sum(w.startswith("• ") for w in words) == 30
        assert "…and 12 more" in words
        review = actions(card_of(sent))["devices_review"]
        form = shown(await press(teams, review["verb"], review["data"]))
        assert len(inputs(form)) == 20
        assert "22 more device(s) are not listed here: they keep their suggested service." in texts(
            form
        )
        submit = actions(form)["devices_review_submit"]
        chosen = {k: i["value"] for k, i in inputs(form).items()}
        await press(teams, submit["verb"], submit["data"], **chosen)
        await teams.settle()
        assert all(service_of(teams.sandbox.tenant, d) for d in new.values())  # the hidden too
