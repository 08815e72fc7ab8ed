"""When the invitation and the reminders of a pulse week are due, in the organisation's time zone.

By default the invitation goes on Monday at 09:00 and one reminder on Thursday at 10:00 (local
time, Europe/London), nothing is sent in quiet hours (19:00 to 08:00), and England and Wales bank
holidays are skipped. A message due on a bank holiday moves to the next working day (Monday to
Friday, not a bank holiday) at the same time; one that falls in quiet hours moves to their end; one
pushed past Friday of its week is dropped (the week closes on Sunday). Times are wall-clock times
in the zone, so 09:00 is 09:00 in GMT and in BST alike; every comparison is made in UTC.

Slot 0 is the invitation, slots 1.. the reminders. A run sends the latest slot that is due.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from models.base import iso_week, week_monday

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
WEEKDAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"), strict=True)
)
# Which nation's bank holidays are skipped -> the subdivision code of ``holidays``' GB calendar.
NATIONS: dict[str, str | None] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
    "none": None,
}
NATION_NAMES = {
    "england-and-wales": "England and Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
    "none": "none (send on bank holidays too)",
}
MAX_REMINDERS = 3


class ScheduleError(ValueError):
    """A schedule that cannot be used; the message is safe to show."""


def _clock(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise ScheduleError(f"{text!r} is not a time such as 09:00") from None


@dataclass(frozen=True)
class Moment:
    """A weekday and a wall-clock time, e.g. Monday 09:00."""

    day: str
    at: str

    def __post_init__(self) -> None:
        if self.day not in WEEKDAYS:
            raise ScheduleError(f"{self.day!r} is not a working day ({', '.join(WEEKDAYS)})")
        _clock(self.at)

    @property
    def clock(self) -> time:
        return _clock(self.at)

    def __str__(self) -> str:
        return f"{WEEKDAY_NAMES[self.day]} {self.at}"


@dataclass(frozen=True)
class ReminderSchedule:
    """One organisation's schedule; stored as JSON in its settings (``reminder_schedule``)."""

    invitation: Moment = Moment("mon", "09:00")
    reminders: tuple[Moment, ...] = (Moment("thu", "10:00"),)
    quiet_from: str = "19:00"  # nothing is sent from here ...
    quiet_until: str = "08:00"  # ... to here (equal times: no quiet hours)
    bank_holidays: str = "england-and-wales"
    time_zone: str = "Europe/London"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.reminders) > MAX_REMINDERS:
            raise ScheduleError(f"at most {MAX_REMINDERS} reminders a week")
        if self.bank_holidays not in NATIONS:
            raise ScheduleError(f"bank holidays must be one of {', '.join(NATIONS)}")
        _clock(self.quiet_from), _clock(self.quiet_until)
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"{self.time_zone!r} is not a time zone such as Europe/London") from None
        moments = [self.invitation, *self.reminders]
        order = [(WEEKDAYS.index(m.day), m.clock) for m in moments]
        if order != sorted(order) or len(set(order)) != len(order):
            raise ScheduleError("the reminders must come after the invitation, each after the last")

    # -- storage ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_zone", None)
        data.pop("time_zone", None)  # the deployment's zone (WELLBEING_TIME_ZONE), as for releases
        data["reminders"] = [asdict(m) for m in self.reminders]
        return data

    @classmethod
    def from_json(
        cls, data: dict[str, Any] | str | None, *, time_zone: str = "Europe/London"
    ) -> ReminderSchedule:
        """A schedule from stored JSON in ``time_zone``; missing keys take the defaults."""
        if data is None:
            return cls(time_zone=time_zone)
        if isinstance(data, str):
            data = json.loads(data)
        defaults = cls(time_zone=time_zone)
        if not isinstance(data, dict):
            return defaults  # a stored value that is not a schedule: fall back, never crash a run
        try:
            return cls(
                invitation=Moment(**data.get("invitation", asdict(defaults.invitation))),
                reminders=tuple(
                    Moment(**m) for m in data.get("reminders", [asdict(m) for m in defaults.reminders])
                ),
                quiet_from=str(data.get("quiet_from", "19:00")),
                quiet_until=str(data.get("quiet_until", "08:00")),
                bank_holidays=str(data.get("bank_holidays", "england-and-wales")),
                time_zone=time_zone,
            )
        except TypeError as error:
            raise ScheduleError(f"the stored schedule is not readable: {error}") from None

    # -- the calendar ----------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _bank_holidays(self.bank_holidays, day.year)

    def is_quiet(self, clock: time) -> bool:
        start, end = _clock(self.quiet_from), _clock(self.quiet_until)
        if start == end:
            return False
        if start < end:
            return start <= clock < end
        return clock >= start or clock < end  # across midnight

    def may_send_at(self, now: datetime) -> bool:
        """Messages go only on working days and outside quiet hours (local time)."""
        local = now.astimezone(self._zone)
        return self.is_working_day(local.date()) and not self.is_quiet(local.time())

    def week_of(self, now: datetime) -> str:
        """The ISO week that is open at ``now`` in the organisation's zone."""
        return iso_week(now.astimezone(self._zone).date())

    def due_times(self, week: str) -> list[datetime | None]:
        """Per slot, when it is due (aware, in UTC), or None when moved out of the week or, by a
        holiday, to no later than the message before it (that one has just gone)."""
        times: list[datetime | None] = []
        latest: datetime | None = None
        for moment in (self.invitation, *self.reminders):
            at = self._place(week, moment)
            if at is not None and latest is not None and at <= latest:
                at = None
            times.append(at)
            latest = at or latest
        return times

    def due_slot(self, now: datetime) -> int | None:
        """The latest slot of ``now``'s week that is due by ``now``, or None before the invitation."""
        due = [
            slot
            for slot, at in enumerate(self.due_times(self.week_of(now)))
            if at is not None and at <= now.astimezone(UTC)
        ]
        return max(due) if due else None

    def _place(self, week: str, moment: Moment) -> datetime | None:
        monday = week_monday(week)
        day, clock = monday + timedelta(days=WEEKDAYS.index(moment.day)), moment.clock
        quiet_end = _clock(self.quiet_until)
        while day <= monday + timedelta(days=4):  # Friday: the last working day of the week
            if not self.is_working_day(day):
                day += timedelta(days=1)
                continue
            if self.is_quiet(clock):
                if clock >= quiet_end:  # the evening side: the morning after
                    day += timedelta(days=1)
                clock = quiet_end
                continue
            return datetime.combine(day, clock, tzinfo=self._zone).astimezone(UTC)
        return None

    def describe(self) -> str:
        """One line for pages and the command line."""
        reminders = ", ".join(str(m) for m in self.reminders) or "no reminders"
        quiet = f"{self.quiet_from}-{self.quiet_until}"
        if self.quiet_from == self.quiet_until:
            quiet = "none"
        return (
            f"invitation {self.invitation}; reminders: {reminders}; quiet hours {quiet}; "
            f"bank holidays skipped: {NATION_NAMES[self.bank_holidays]}; time zone {self.time_zone}"
        )


@lru_cache(maxsize=64)
def _bank_holidays(nation: str, year: int) -> frozenset[date]:
    """The nation's bank holidays in ``year`` (the ``holidays`` package keeps the dates)."""
    subdivision = NATIONS[nation]
    if subdivision is None:
        return frozenset()
    return frozenset(holidays.country_holidays("GB", subdiv=subdivision, years=year))


def parse_now(text: str, time_zone: str) -> datetime:
    """``--now``: an ISO date-time, in ``time_zone`` unless it carries an offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(f"{text!r} is not a date and time such as 2026-12-07T09:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment
