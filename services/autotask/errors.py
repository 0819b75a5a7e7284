"""Errors raised by the Autotask client.

Every error names the entity and the operation and keeps Autotask's own ``errors[]`` texts
verbatim, because those texts are what an MSP admin can act on. None of them ever carries the
API secret: messages are built only from the entity, the operation and Autotask's reply.

    AutotaskError                                                                [failure]
    ├── TransportError           network failure or timeout; the request may      unreachable
    │                            or may not have landed
    ├── ZoneDiscoveryError       zoneInformation did not give a usable zone       credentials, or
    │                            for the user name                                unreachable
    └── AutotaskAPIError         Autotask answered with a failure                 refused
        ├── AuthenticationError  401: bad user name, secret or integration code   credentials
        ├── PermissionDeniedError  403, or a 500 about the API user's security    permission
        │                          level
        ├── NotFoundError        404, or a 500 "No matching records found"        refused
        ├── BusinessRuleError    a rule refused the change (HTTP 500 + text)      refused
        ├── RateLimitedError     rejected before it ran: always safe to retry     busy
        │   ├── ThreadLimitError     more than N calls in flight for one entity endpoint
        │   └── ThresholdExceededError  the tenant's hourly request budget is spent
        └── ServerError          a 5xx: "An unexpected error has occurred"        refused, or
                                 (Autotask's text), no error text at all, or a    unreachable
                                 gateway's 502/503/504 (whatever its text)

The right-hand column is the ``Failure`` each one is, for the person who asked: what they can do
about it (try again in a moment, in a few minutes, or ask an Autotask admin). It is decided here
and nowhere else; front-ends only word it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import ClassVar


class Failure(StrEnum):
    """Why an Autotask call failed, as far as the person who asked for it is concerned."""

    UNREACHABLE = "unreachable"  # no answer from Autotask: try again in a moment
    BUSY = "busy"  # Autotask answered that it is overloaded: try again in a few minutes
    PERMISSION = "permission"  # the API user's security level: an Autotask admin must grant it
    CREDENTIALS = "credentials"  # the API user, secret, integration code or zone: an admin fixes it
    REFUSED = "refused"  # Autotask's own error text: try later, else an admin checks the API user


class AutotaskError(Exception):
    """Base of everything the Autotask client raises."""

    kind: ClassVar[Failure] = Failure.UNREACHABLE

    def __init__(self, message: str, *, entity: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.entity = entity
        self.operation = operation

    @property
    def failure(self) -> Failure:
        return self.kind

    @property
    def said(self) -> str:
        """Autotask's own words when it answered; otherwise what went wrong on the way."""
        return str(self)


class TransportError(AutotaskError):
    """The request did not complete; for a create, the record may exist anyway."""


class ZoneDiscoveryError(AutotaskError):
    """The zone of the API user could not be found."""

    @property
    def failure(self) -> Failure:
        # Raised while handling a network error (httpx's): zoneInformation was not reached.
        # Otherwise Autotask answered and has no usable zone for this API user.
        context = self.__context__
        reached = context is None or isinstance(context, AutotaskError)
        return Failure.CREDENTIALS if reached else Failure.UNREACHABLE


class AutotaskAPIError(AutotaskError):
    """Autotask answered with a non-success status."""

    kind = Failure.REFUSED

    def __init__(
        self,
        *,
        status: int,
        entity: str,
        operation: str,
        errors: Sequence[str] = (),
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.errors = list(errors)
        self.retry_after = retry_after
        detail = "; ".join(self.errors) if self.errors else f"HTTP {status} with no error text"
        super().__init__(
            f"Autotask {operation} on {entity or 'API'} failed: {detail}",
            entity=entity,
            operation=operation,
        )

    @property
    def said(self) -> str:
        return "; ".join(self.errors) if self.errors else f"HTTP {self.status} with no error text"


class AuthenticationError(AutotaskAPIError):
    """Credentials were refused."""

    kind = Failure.CREDENTIALS


class PermissionDeniedError(AutotaskAPIError):
    """The API user's security level does not allow this."""

    kind = Failure.PERMISSION


class NotFoundError(AutotaskAPIError):
    """The record or path does not exist."""

    kind = Failure.REFUSED


class BusinessRuleError(AutotaskAPIError):
    """Autotask refused the change; its texts say why."""

    kind = Failure.REFUSED


class RateLimitedError(AutotaskAPIError):
    """Rejected before running; retrying later is safe, even for a create."""

    kind = Failure.BUSY


class ThreadLimitError(RateLimitedError):
    """Too many concurrent calls on one entity endpoint (Autotask code Itgenatr005)."""


class ThresholdExceededError(RateLimitedError):
    """The tenant's hourly request budget is used up."""


class ServerError(AutotaskAPIError):
    """An opaque server failure; for a create, look the record up before trying again."""

    @property
    def failure(self) -> Failure:
        # A 5xx with no errors body, or a gateway's 502/503/504, came from something in front of
        # Autotask (a proxy, a restart); "An unexpected error has occurred" is Autotask's own.
        if not self.errors or self.status in _GATEWAY_STATUSES:
            return Failure.UNREACHABLE
        return Failure.REFUSED


_THREAD_LIMIT_MARKERS = ("thread threshold", "itgenatr005")
_THRESHOLD_MARKERS = ("request threshold", "hourly threshold", "threshold has been exceeded")
_PERMISSION_MARKERS = ("adequate permissions", "does not have permission", "not authorized")
_NOT_FOUND_MARKERS = ("no matching records found",)
_OPAQUE_MARKERS = ("an unexpected error has occurred",)
# Gateways and load balancers answer these, whatever text they add: never a business rule.
_GATEWAY_STATUSES = (502, 503, 504)


def error_for_status(
    *,
    status: int,
    entity: str,
    operation: str,
    errors: Sequence[str],
    retry_after: float | None = None,
) -> AutotaskAPIError:
    """Map an HTTP status and Autotask's texts to the most specific error class.

    Autotask reports most failures as HTTP 500 and says what happened only in the text, so the
    text decides before the status does.
    """
    text = " ".join(errors).lower()
    cls: type[AutotaskAPIError]
    if any(marker in text for marker in _THREAD_LIMIT_MARKERS):
        cls = ThreadLimitError
    elif status == 429 or any(marker in text for marker in _THRESHOLD_MARKERS):
        cls = ThresholdExceededError
    elif status == 401:
        cls = AuthenticationError
    elif status == 403 or any(marker in text for marker in _PERMISSION_MARKERS):
        cls = PermissionDeniedError
    elif status == 404 or any(marker in text for marker in _NOT_FOUND_MARKERS):
        cls = NotFoundError
    elif status >= 500 and (
        not errors or status in _GATEWAY_STATUSES or any(m in text for m in _OPAQUE_MARKERS)
    ):
        cls = ServerError
    else:
        cls = BusinessRuleError
    return cls(
        status=status, entity=entity, operation=operation, errors=errors, retry_after=retry_after
    )
