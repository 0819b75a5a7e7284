"""The bookkeeping around an attach, which is a "devices" onboarding run by the onboarding
runner: the offer taken (once: a second click or replica is refused) or given back, the
onboarding stored with its offer named, and what the run did recorded on the offer and its
devices when it ends, here or in another process."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, update

from services.devices.cards import (
    ATTACHED,
    ATTACHING,
    FAILED,
    OFFERED,
    OPEN_OFFER,
    AttachOutcome,
    DeviceActor,
    SkippedDevice,
)
from services.devices.messages import OfferMessages
from services.devices.outcomes import outcome_of, outcome_to_json
from services.onboarding.plan import Plan
from services.onboarding.plan_devices import DevicesRequest
from services.onboarding.records import RunReport
from services.onboarding.runner import Runner
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import DeviceOffer, OfferedDevice


class AttachBookkeeping:
    def __init__(self, db: Database, runner: Runner, messages: OfferMessages) -> None:
        self.db, self.runner, self.messages = db, runner, messages

    async def take(self, offer_id: int, actor: DeviceActor, left_out: list[SkippedDevice]) -> bool:
        """Mark the offer attaching (once: a second click or replica gets ``False``) and the
        devices Review left out as skipped."""
        async with self.db.transaction() as session:
            taken = await repo.matched(session,
                update(DeviceOffer).where(DeviceOffer.id == offer_id,
                                          DeviceOffer.state.in_(OPEN_OFFER))
                .values(state=ATTACHING, acted_by=actor.user_id)
            )  # fmt: skip
            if taken != 1:
                return False
            if left_out:
                names = [s.name for s in left_out]
                await session.execute(
                    update(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                                OfferedDevice.state == OFFERED,
                                                OfferedDevice.name.in_(names))
                    .values(state="skipped")
                )  # fmt: skip
            return True

    async def give_back(self, offer_id: int) -> None:
        """Nothing was stored: the offer's buttons act again."""
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id, DeviceOffer.state == ATTACHING)
                .values(state=OFFERED)
            )  # fmt: skip

    async def store(
        self, actor: DeviceActor, request: DevicesRequest, plan: Plan, offer_id: int,
        left_out: list[SkippedDevice],
    ) -> str:  # fmt: skip
        """The devices onboarding; ``meta`` names its offer and the devices Review left out (not
        steps of the run, but part of what the DM reports)."""
        onboarding_id = await self.runner.store(
            request, plan, platform=actor.platform or "console", requested_by=actor.user_id,
            meta={"origin": {}, "locale": actor.locale, "devices_offer": offer_id,
                  "left_out": [[s.name, s.reason] for s in left_out]},
        )  # fmt: skip
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id)
                .values(attach_onboarding_id=onboarding_id)
            )  # fmt: skip
        return onboarding_id

    async def failed_early(self, offer_id: int, onboarding_id: str, error: str) -> None:
        """Autotask could not be read before the run's first step: the offer failed, so Retry
        shows."""
        outcome = AttachOutcome(FAILED, (), (), (), None, error, onboarding_id)
        async with self.db.transaction() as session:
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id == offer_id)
                .values(state=FAILED, outcome=outcome_to_json(outcome))
            )  # fmt: skip
        await self.messages.redraw(offer_id)

    async def finished(
        self, offer_id: int, report: RunReport, left_out: list[SkippedDevice]
    ) -> None:
        """A devices run ended (here or in another process): record what it did on the offer
        and its devices, and show it in the DM."""
        outcome = outcome_of(report)
        outcome = replace(outcome, skipped=(*outcome.skipped, *left_out))
        done = {s.key.split(":", 1)[1] for s in report.steps if s.kind == "device"
                and s.state in ("done", "skipped")}  # fmt: skip
        skipped = {s.key.split(":", 1)[1] for s in report.steps if s.kind == "device_skipped"}
        state = {"applied": ATTACHED, "failed": FAILED, "cancelled": FAILED}.get(report.status)
        async with self.db.transaction() as session:
            offer = await session.get(DeviceOffer, offer_id)
            if offer is None:
                return
            for ids, value in ((done, "attached"), (skipped, "skipped")):
                if ids:
                    await session.execute(
                        update(OfferedDevice).where(OfferedDevice.offer_id == offer_id,
                                                    OfferedDevice.device_id.in_([int(i) for i in ids]))
                        .values(state=value)
                    )  # fmt: skip
            if state is not None:
                still = await session.scalar(
                    select(OfferedDevice.id).where(OfferedDevice.offer_id == offer_id,
                                                   OfferedDevice.state == OFFERED).limit(1)
                )  # fmt: skip
                offer.state = state if state == FAILED or still is None else OFFERED
                offer.outcome = outcome_to_json(outcome)
        await self.messages.redraw(offer_id)
