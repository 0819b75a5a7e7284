"""Chat user <-> Autotask resource, by e-mail: who may onboard, and whose name writes carry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.autotask.reference import ReferenceData


@dataclass(frozen=True)
class Person:
    email: str | None
    resource_id: int | None
    name: str | None
    allowed: bool


class Directory:
    """``ONBOARDERS`` (e-mails) when set; otherwise anyone who is an active Autotask resource."""

    def __init__(self, reference: ReferenceData, onboarders: Iterable[str] = ()) -> None:
        self.reference = reference
        self.onboarders = {e.strip().casefold() for e in onboarders if "@" in e}

    async def person(self, email: str | None) -> Person:
        if not email:
            return Person(None, None, None, allowed=False)
        resource = await self.reference.resource_by_email(email)
        allowed = (email.casefold() in self.onboarders) if self.onboarders else resource is not None
        return Person(
            email,
            resource.id if resource else None,
            resource.full_name if resource else None,
            allowed,
        )
