"""Errors raised by the Autotask client.

Every error names the entity and the operation and keeps Autotask's own ``errors[]`` texts
verbatim, because those texts are what an MSP admin can act on. None of them ever carries the
API secret: messages are built only from the entity, the operation and Autotask's reply.

    AutotaskError
    ├── TransportError           network failure or timeout; the request may or may not have landed
    ├── ZoneDiscoveryError       zoneInformation did not give a usable zone for the user name
    └── AutotaskAPIError         Autotask answered with a failure
        ├── AuthenticationError  401: bad user name, secret or integration code
        ├── PermissionDeniedError  403, or a 500 about the API user's security level
        ├── NotFoundError        404, or a 500 "No matching records found"
        ├── BusinessRuleError    a rule refused the change (Autotask sends these as HTTP 500)
        ├── RateLimitedError     the call was rejected before it ran: always safe to retry later
        │   ├── ThreadLimitError     more than N calls in flight for one entity endpoint
        │   └── ThresholdExceededError  the tenant's hourly request budget is spent
        └── ServerError          an opaque 5xx ("An unexpected error has occurred")
"""

from __future__ import annotations

from collections.abc import Sequence


class AutotaskError(Exception):
    """Base of everything the Autotask client raises."""

    def __init__(self, message: str, *, entity: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.entity = entity
        self.operation = operation


class TransportError(AutotaskError):
    """The request did not complete; for a create, the record may exist anyway."""


class ZoneDiscoveryError(AutotaskError):
    """The zone of the API user could not be found."""


class AutotaskAPIError(AutotaskError):
    """Autotask answered with a non-success status."""

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


class AuthenticationError(AutotaskAPIError):
    """Credentials were refused."""


class PermissionDeniedError(AutotaskAPIError):
    """The API user's security level does not allow this."""


class NotFoundError(AutotaskAPIError):
    """The record or path does not exist."""


class BusinessRuleError(AutotaskAPIError):
    """Autotask refused the change; its texts say why."""


class RateLimitedError(AutotaskAPIError):
    """Rejected before running; retrying later is safe, even for a create."""


class ThreadLimitError(RateLimitedError):
    """Too many concurrent calls on one entity endpoint (Autotask code Itgenatr005)."""


class ThresholdExceededError(RateLimitedError):
    """The tenant's hourly request budget is used up."""


class ServerError(AutotaskAPIError):
    """An opaque server failure; for a create, look the record up before trying again."""


_THREAD_LIMIT_MARKERS = ("thread threshold", "itgenatr005")
_THRESHOLD_MARKERS = ("request threshold", "hourly threshold", "threshold has been exceeded")
_PERMISSION_MARKERS = ("adequate permissions", "does not have permission", "not authorized")
_NOT_FOUND_MARKERS = ("no matching records found",)
_OPAQUE_MARKERS = ("an unexpected error has occurred",)


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
    elif status >= 500 and (not errors or any(m in text for m in _OPAQUE_MARKERS)):
        cls = ServerError
    else:
        cls = BusinessRuleError
    return cls(
        status=status, entity=entity, operation=operation, errors=errors, retry_after=retry_after
    )
