"""When to nudge: inside the recipient's business hours, in their own time zone.

Local times are turned into UTC with ``zoneinfo`` for the date in question, so a nudge set for
09:00 stays at 09:00 local across daylight-saving changes (UTC offset moves, the wall clock not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class BusinessHours:
    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))
    interval: timedelta = timedelta(hours=24)
    default_tz: str = "UTC"

    @classmethod
    def parse(
        cls, hours: str, weekdays: list[str], interval_hours: float, default_tz: str = "UTC"
    ) -> BusinessHours:
        """``"09:00-17:00"``, ``["mon", ..., "fri"]``: the settings' spelling."""
        first, _, last = hours.partition("-")
        start, end = time.fromisoformat(first.strip()), time.fromisoformat(last.strip())
        if end <= start:
            raise ValueError(f"REMINDER_HOURS must end after it starts: {hours!r}")
        days = frozenset(WEEKDAYS[d.strip().lower()[:3]] for d in weekdays)
        if not days:
            raise ValueError("REMINDER_WEEKDAYS needs at least one day")
        return cls(start, end, days, timedelta(hours=interval_hours), default_tz)

    def zone(self, tz: str | None) -> ZoneInfo:
        try:
            return ZoneInfo(tz or self.default_tz)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.default_tz)

    def next_slot(self, earliest: datetime, tz: str | None) -> datetime:
        """The first moment at or after ``earliest`` that is business time where the recipient is."""
        zone = self.zone(tz)
        local = earliest.astimezone(zone)
        for offset in range(15):  # two weeks always contain a business day
            day = (local + timedelta(days=offset)).date()
            if day.weekday() not in self.weekdays:
                continue
            opens = datetime.combine(day, self.start, zone)
            closes = datetime.combine(day, self.end, zone)
            if offset == 0 and opens <= local < closes:
                return earliest.astimezone(UTC)
            if local < opens:
                return opens.astimezone(UTC)
        raise ValueError("no business day in two weeks")  # unreachable with a non-empty weekday set

    def after_nudge(self, now: datetime, tz: str | None) -> datetime:
        return self.next_slot(now + self.interval, tz)

    def snoozed(self, now: datetime, tz: str | None, days: int) -> datetime:
        """Snoozing to "tomorrow" or "next week" means the start of business hours that day."""
        zone = self.zone(tz)
        local_day = (now.astimezone(zone) + timedelta(days=days)).date()
        return self.next_slot(datetime.combine(local_day, time(0, 0), zone), tz)
