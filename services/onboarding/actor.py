"""Who is acting, and the typed refusals every use case may answer with.

An ``Actor`` is built by the onboarding service from what a front-end knows of the person (chat
platform and user id, e-mail, locale, chat group membership); the service decides with
``services.directory`` whether they may onboard and whether they are an onboarding administrator,
and checks it again on every action. Refusals carry an i18n key and parameters, so each front-end
shows a private, localized explanation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from services.directory import Directory
from services.i18n import Translator

LOCAL = "console"  # the platform name of the terminal front-end


@dataclass(frozen=True)
class Actor:
    platform: str
    user_id: str
    email: str | None
    locale: str
    resource_id: int | None = None  # the Autotask resource writes are attributed to
    name: str | None = None
    may_onboard: bool = False
    is_admin: bool = False  # may retry or cancel anyone's onboarding (ONBOARDING_ADMINS)
    in_group: bool = False  # the front-end found them in an ONBOARDERS chat group
    local: bool = False  # the operator at the terminal, who holds the credentials anyway
    tz: str | None = None

    def owns(self, platform: str, user_id: str, email: str | None = None) -> bool:
        """Is this the person who started a draft or requested an onboarding? The same chat
        account, or (across platforms) the same e-mail."""
        if (platform, user_id) == (self.platform, self.user_id):
            return True
        return bool(email and self.email and email.casefold() == self.email.casefold())


class RefusedError(Exception):
    """The acting person may not do this; ``message(t)`` says why, in their language."""

    key = "refused.not_allowed"

    def __init__(self, **params: Any) -> None:
        super().__init__(self.key)
        self.params = params

    def message(self, t: Translator) -> str:
        return t(self.key, **self.params)


class NotAnOnboarderError(RefusedError):
    key = "refused.not_onboarder"


class NotYourDraftError(RefusedError):
    key = "refused.not_your_draft"


class NotYourOnboardingError(RefusedError):
    key = "refused.not_your_onboarding"


class DraftGoneError(RefusedError):
    key = "refused.draft_gone"


class OnboardingGoneError(RefusedError):
    key = "refused.unknown_onboarding"


class BusyError(RefusedError):
    """Being applied right now (a second Apply click, or another replica holds the run)."""

    key = "refused.busy"


class Gate:
    """Builds actors from a front-end's identity and checks them again on every action."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def identify(
        self,
        *,
        platform: str,
        user_id: str,
        email: str | None,
        locale: str,
        tz: str | None = None,
        member_of: Callable[[str], Awaitable[bool]] | None = None,
    ) -> Actor:
        person = await self.directory.person(email)
        in_group = False
        if not person.allowed and member_of is not None:
            for group in self.directory.groups:
                if await member_of(group):
                    in_group = True
                    break
        return Actor(platform, user_id, email, locale, person.resource_id, person.name,
                     may_onboard=person.allowed or in_group, is_admin=self.directory.is_admin(email),
                     in_group=in_group, tz=tz)  # fmt: skip

    def local_operator(self, user_id: str, locale: str) -> Actor:
        """The person at the terminal: they hold the Autotask credentials, so the chat rules
        (ONBOARDERS) do not apply and they may resume any onboarding."""
        return Actor(LOCAL, user_id, None, locale, may_onboard=True, is_admin=True, local=True)

    async def check(self, actor: Actor) -> Actor:
        """Whether this person may still act, decided now: removing someone from ONBOARDERS (or
        deactivating their Autotask resource) stops their open drafts at their next click."""
        if actor.local:
            return actor
        person = await self.directory.person(actor.email)
        allowed = person.allowed or (actor.in_group and bool(self.directory.groups))
        admin = self.directory.is_admin(actor.email)
        if not (allowed or admin):
            raise NotAnOnboarderError(email=actor.email or "?")
        return replace(actor, may_onboard=allowed, is_admin=admin, resource_id=person.resource_id)
