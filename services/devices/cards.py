"""What a device follow-up shows and who acts on it: the shapes every front-end renders.

A front-end (Slack, Teams, terminal) gets these from ``services/devices/service.py`` and renders
them in the reader's language; it never decides anything itself (who may act, what is attached).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The states of an offer (one DM listing devices found by one sweep).
OFFERED = "offered"  # waiting for a person: Attach as suggested / Review / Not a managed device
ATTACHING = "attaching"  # the run is under way
ATTACHED = "attached"  # the run ended applied (the outcome says what was attached and skipped)
FAILED = "failed"  # the run stopped at a step; Retry (the same buttons) continues it
DISMISSED = "dismissed"  # "Not a managed device" for all of them
SNOOZED = "snoozed"  # offered, and no DM of this follow-up before ``until``
ENDED = "ended"  # the follow-up ended (``DeviceCard.ended`` says why); nothing more to press
OPEN_OFFER = (OFFERED, SNOOZED, FAILED)  # states in which the buttons act

# Why a follow-up ended: i18n ``devices.ended.<reason>``.
END_REASONS = ("complete", "quiet", "contract_ended", "gone")
# Why a device was not attached: i18n ``devices.skip.<reason>``.
SKIP_REASONS = ("other_contract", "gone", "not_managed", "skipped", "already")


@dataclass(frozen=True)
class DeviceActor:
    """Who pressed a button or typed a command: the chat account the platform vouched for (never
    a value the message carries), its e-mail (for the account manager and ONBOARDING_ADMINS)
    and the platform (``"slack"``, ``"teams"``, ``"console"``)."""

    user_id: str
    email: str | None = None
    platform: str = ""
    locale: str = "en"
    local: bool = False  # the operator at the terminal, who holds the credentials anyway


class DevicesRefusedError(Exception):
    """A use case refused; ``key`` is the i18n key of the reason, shown to the person who acted."""

    key = "devices.refused"

    def __init__(self, **params: object) -> None:
        super().__init__(self.key)
        self.params = params


class NotYourDevicesError(DevicesRefusedError):
    """Only the onboarding's requester, the company's account manager (by e-mail) or an
    ONBOARDING_ADMINS member may act on a device follow-up."""

    key = "devices.not_yours"


class OfferClosedError(DevicesRefusedError):
    """The offer was attached, dismissed, or its follow-up ended: nothing left to press."""

    key = "devices.offer_closed"


class AttachBusyError(DevicesRefusedError):
    """The offer's devices are being attached right now (another click, another replica)."""

    key = "devices.busy"


class UnknownOfferError(DevicesRefusedError):
    """No such offer (a payload can name any id)."""

    key = "devices.unknown_offer"


class ChoicesInvalidError(DevicesRefusedError):
    """Review's choices cannot be applied: ``issues`` maps a device id to an i18n key
    (``devices.choose_service``: a device with no suggestion must be given a service or skipped;
    ``devices.bad_service``: a service that is not on the contract)."""

    key = "devices.invalid"

    def __init__(self, issues: dict[int, str]) -> None:
        super().__init__()
        self.issues = issues


@dataclass(frozen=True)
class ServiceChoice:
    """A service on the follow-up's contract, as Review offers it."""

    service_id: int
    name: str


@dataclass(frozen=True)
class DeviceLine:
    device_id: int
    name: str  # the configuration item's reference title (or "#id")
    kind: str | None  # its configuration item type's label ("Workstation", "Server"...)
    service_id: int | None  # the suggested (or chosen) service; None: no suggestion
    service: str | None  # that service's name
    link: str | None = None  # the device in Autotask


@dataclass(frozen=True)
class DeviceGroup:
    """The devices one service is suggested for (``service_id`` None: "no suggestion")."""

    service_id: int | None
    service: str | None
    devices: tuple[DeviceLine, ...]


@dataclass(frozen=True)
class UnitChange:
    """A contract service whose units change with the devices attached (before -> after)."""

    service: str
    before: int
    after: int


@dataclass(frozen=True)
class SkippedDevice:
    name: str
    reason: str  # one of SKIP_REASONS -> i18n devices.skip.<reason>


@dataclass(frozen=True)
class AttachPreview:
    """What "Attach" will do, from a fresh read of Autotask: shown before anything is written."""

    offer_id: int
    attach: tuple[DeviceLine, ...]  # each device with the service it goes to
    units: tuple[UnitChange, ...]  # services counted per device: their units rise
    fixed_units: tuple[str, ...]  # services not counted per device: units left as they are
    skipped: tuple[SkippedDevice, ...]


@dataclass(frozen=True)
class AttachOutcome:
    """How an attach run ended: what the DM (or the terminal) says afterwards."""

    status: str  # "applied", "failed", "applying" (another process carries on)
    attached: tuple[DeviceLine, ...]
    units: tuple[UnitChange, ...]
    skipped: tuple[SkippedDevice, ...]
    failed_step: str | None = None  # the step's description, in English (the runner's record)
    error: str | None = None  # Autotask's message for it
    onboarding_id: str | None = None  # the "devices" onboarding that did it (audit, retry)


@dataclass(frozen=True)
class DeviceCard:
    """Everything a device DM shows; the notifier renders it in the recipient's language.

    Buttons (when ``state`` is OFFERED, SNOOZED or FAILED): Attach as suggested, Review, Not a
    managed device, Rollout complete, Snooze 1 day / 1 week, and Open in Autotask (``link``).
    In FAILED the outcome says which step failed and Attach/Review retry. ATTACHED, DISMISSED and
    ENDED show the outcome / reason and only Open in Autotask and Rollout complete (not ENDED).
    """

    offer_id: int
    followup_id: int
    company_id: int
    company_name: str
    contract_name: str
    state: str
    groups: tuple[DeviceGroup, ...]
    link: str | None = None  # the company in Autotask
    until: datetime | None = None  # SNOOZED: no DM before then
    outcome: AttachOutcome | None = None  # ATTACHED / FAILED
    ended: str | None = None  # ENDED: one of END_REASONS
    acted_by: str | None = None  # the chat user id who attached / dismissed / ended it

    @property
    def device_count(self) -> int:
        return sum(len(g.devices) for g in self.groups)


@dataclass(frozen=True)
class ReviewForm:
    """What Review's form shows: each device with its suggestion preselected, and the choices
    (the contract's services; "skip" is a choice every front-end adds, value ``None``)."""

    offer_id: int
    company_name: str
    devices: tuple[DeviceLine, ...]
    services: tuple[ServiceChoice, ...]


@dataclass(frozen=True)
class PendingDevices:
    """One follow-up's devices still waiting for a decision (the terminal's list)."""

    followup_id: int
    offer_id: int | None  # the open offer holding them
    company_id: int
    company_name: str
    contract_name: str
    devices: tuple[DeviceLine, ...]
