"""What the Teams handlers need, built once by ``bot/teams.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.background import Background
from handlers.teams.people import Member
from services.conversations import Conversations
from services.devices.service import DeviceFollowUps
from services.directory import Directory
from services.onboarding.service import OnboardingService
from services.reminders.service import Reminders


@dataclass
class TeamsDeps:
    directory: Directory
    conversations: Conversations
    service: OnboardingService
    reminders: Reminders | None = None  # the reminder card's buttons; None: no reminders here
    devices: DeviceFollowUps | None = None  # the device card's buttons (devices that arrive later)
    invoke_budget: float = 4.0  # seconds of work before an invoke answer; Teams waits 5
    member_ttl: float = 600.0
    background: Background = field(default_factory=Background)
    members: dict[str, tuple[float, Member]] = field(default_factory=dict)
    # (conversation id, service URL) already stored by this process: one write per change
    remembered: set[tuple[str, str]] = field(default_factory=set)
