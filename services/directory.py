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
    """``ONBOARDERS`` when set (e-mails, and chat user-group ids the front-end checks);
    otherwise anyone who is an active Autotask resource. ``ONBOARDING_ADMINS`` (e-mails) may also
    retry or cancel onboardings other people requested."""

    def __init__(
        self, reference: ReferenceData, onboarders: Iterable[str] = (), admins: Iterable[str] = ()
    ) -> None:
        self.reference = reference
        entries = [e.strip() for e in onboarders if e.strip()]
        self.onboarders = {e.casefold() for e in entries if "@" in e}
        self.groups = [e for e in entries if "@" not in e]
        self.restricted = bool(entries)
        self.admins = {e.strip().casefold() for e in admins if e.strip()}

    def is_admin(self, email: str | None) -> bool:
        return email is not None and email.casefold() in self.admins

    async def person(self, email: str | None) -> Person:
        """Who this is in Autotask, and whether ONBOARDERS' e-mails (or its absence) allow them.
        A chat front-end may still allow someone through a user group in ``groups``."""
        if not email:
            return Person(None, None, None, allowed=False)
        resource = await self.reference.resource_by_email(email)
        allowed = (email.casefold() in self.onboarders) if self.restricted else resource is not None
        return Person(
            email,
            resource.id if resource else None,
            resource.full_name if resource else None,
            allowed,
        )
