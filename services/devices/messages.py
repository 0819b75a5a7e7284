"""The offer's DM: the card as it shows now (built from the rows, so any process can draw it),
sent once to the recipient, then redrawn in place after every change."""

from __future__ import annotations

from sqlalchemy import select, update

from services.autotask.client import AutotaskClient
from services.autotask.reference import ReferenceData
from services.autotask.zones import company_url
from services.devices.cards import (
    ENDED,
    OFFERED,
    SNOOZED,
    DeviceCard,
    DeviceGroup,
    DeviceLine,
    UnknownOfferError,
)
from services.devices.outcomes import outcome_from_json
from services.devices.routing import DeviceRouting
from services.onboarding.runs import quietly
from services.reminders.routing import was_sent
from services.store.db import Database
from services.store.tables import DeviceFollowUp, DeviceOffer, OfferedDevice


class OfferMessages:
    def __init__(
        self,
        db: Database,
        client: AutotaskClient,
        reference: ReferenceData,
        notifier: DeviceRouting | None,
    ) -> None:
        self.db, self.client, self.reference, self.notifier = db, client, reference, notifier

    async def card(self, offer_id: int) -> DeviceCard:
        """The offer as its DM shows it now."""
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            if offer is None:
                raise UnknownOfferError()
            followup = await session.get(DeviceFollowUp, offer.followup_id)
            assert followup is not None
            devices = list(await session.scalars(
                select(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                            OfferedDevice.state == OFFERED)
                .order_by(OfferedDevice.name, OfferedDevice.device_id)
            ))  # fmt: skip
        names = {s.id: s.name for s in await self.reference.services()}
        groups: dict[int | None, list[DeviceLine]] = {}
        for d in devices:
            service = names.get(d.suggested_service_id) if d.suggested_service_id else None
            groups.setdefault(d.suggested_service_id, []).append(
                DeviceLine(d.device_id, d.name, d.kind, d.suggested_service_id, service)
            )
        ordered = sorted(groups.items(), key=lambda g: (g[0] is None, g[1][0].service or ""))
        return DeviceCard(
            offer_id=offer_id, followup_id=followup.id, company_id=followup.company_id,
            company_name=followup.company_name, contract_name=followup.contract_name,
            state=offer.state,
            groups=tuple(DeviceGroup(k, v[0].service, tuple(v)) for k, v in ordered),
            link=await self._link(followup.company_id),
            until=followup.snoozed_until if offer.state == SNOOZED else None,
            outcome=outcome_from_json(offer.outcome) if offer.outcome else None,
            ended=followup.end_reason if offer.state == ENDED else None,
            acted_by=offer.acted_by,
        )  # fmt: skip

    async def _link(self, company_id: int) -> str | None:
        try:
            return company_url(await self.client.zone(), company_id)
        except Exception:  # a link is a nicety
            return None

    async def send(self, offer_id: int) -> bool:
        """DM a new offer to its follow-up's recipient (none: only the terminal lists it) and
        keep the platform's reference to redraw it; False when there is nobody to DM."""
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            followup = await session.get(DeviceFollowUp, offer.followup_id) if offer else None
            if followup is None or followup.recipient_user_id is None or self.notifier is None:
                return False
            to, platform, locale = (
                followup.recipient_user_id,
                followup.recipient_platform,
                followup.locale,
            )
        card = await self.card(offer_id)
        ref = await self.notifier.send_devices(to, card, locale, platform=platform)
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id)
                .values(message_ref={**ref, "locale": locale})
            )  # fmt: skip
        return True

    async def redraw(self, offer_id: int) -> None:
        """Show the offer's new state in its DM, if one was sent (a failure is only logged)."""
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            ref = dict(offer.message_ref) if offer else {}
        if self.notifier is not None and was_sent(ref):
            card = await self.card(offer_id)
            await quietly(self.notifier.update_devices(ref, card, str(ref.get("locale") or "en")),
                           "update the device DM")  # fmt: skip
