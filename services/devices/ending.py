"""Ending a follow-up, whichever way it ends (Rollout complete, the quiet period, the contract's
end, the contract gone): once, whoever gets there first, with its open DMs closed and the
requester told."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update

from services.devices.cards import ENDED, OPEN_OFFER
from services.devices.messages import OfferMessages
from services.devices.routing import DeviceRouting
from services.onboarding.runs import quietly
from services.store import repositories as repo
from services.store.db import Database
from services.store.tables import DeviceFollowUp, DeviceOffer

logger = logging.getLogger(__name__)


class FollowUpEnding:
    def __init__(
        self,
        db: Database,
        messages: OfferMessages,
        notifier: DeviceRouting | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.db, self.messages, self.notifier, self.clock = db, messages, notifier, clock

    async def end(self, followup_id: int, reason: str, *, by: str | None = None) -> int:
        """End the follow-up (once, whoever gets there first), close its open offers' DMs and
        tell the requester. 1 when this call ended it."""
        now = self.clock()
        table = DeviceFollowUp
        async with self.db.transaction() as session:
            ended = await repo.matched(session,
                update(table).where(table.id == followup_id, table.status == "open")
                .values(status="ended", end_reason=reason, ended_at=now, claim_token=None)
            )  # fmt: skip
            if ended != 1:
                return 0
            followup = await session.get(DeviceFollowUp, followup_id)
            offers = list(await session.scalars(
                select(DeviceOffer.id).where(DeviceOffer.followup_id == followup_id,
                                             DeviceOffer.state.in_(OPEN_OFFER))
            ))  # fmt: skip
            await session.execute(
                update(DeviceOffer).where(DeviceOffer.id.in_(offers)).values(state=ENDED)
            )
        assert followup is not None
        logger.info("device follow-up %s of %s ended: %s", followup_id, followup.company_name,
                    reason)  # fmt: skip
        for offer_id in offers:
            await self.messages.redraw(offer_id)
        if self.notifier is not None:
            requester_here = self.notifier.serves(followup.requester_platform)
            to, platform = (
                (followup.requester_id, followup.requester_platform)
                if requester_here
                else (followup.recipient_user_id, followup.recipient_platform)
            )
            if to and to != by:
                await quietly(self.notifier.tell(to, f"devices.ended.{reason}", platform=platform,
                                                  company=followup.company_name,
                                                  contract=followup.contract_name),
                               "tell the requester the follow-up ended")  # fmt: skip
        return 1
