"""When invitations and reminders are due: time zone, clock changes, bank holidays, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.reminders.schedule import Moment, ReminderSchedule, ScheduleError, parse_now

LONDON = "Europe/London"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_default_schedule_is_monday_nine_and_thursday_ten_local() -> None:
    schedule = ReminderSchedule()
    # 2026-W50: Monday 7 December, GMT (UTC+0).
    assert schedule.due_times("2026-W50") == [utc(2026, 12, 7, 9), utc(2026, 12, 10, 10)]
    assert schedule.due_slot(utc(2026, 12, 7, 8, 59)) is None
    assert schedule.due_slot(utc(2026, 12, 7, 9)) == 0
    assert schedule.due_slot(utc(2026, 12, 10, 9, 59)) == 0
    assert schedule.due_slot(utc(2026, 12, 10, 10)) == 1
    assert schedule.due_slot(utc(2026, 12, 13, 17)) == 1  # Sunday: still the latest slot


def test_clock_change_in_spring_keeps_nine_o_clock_local() -> None:
    """Clocks go forward on Sunday 29 March 2026: Monday 30 March 09:00 BST is 08:00 UTC."""
    schedule = ReminderSchedule()
    assert schedule.due_times("2026-W14")[0] == utc(2026, 3, 30, 8)
    assert schedule.due_slot(utc(2026, 3, 30, 8, 30)) == 0  # 09:30 BST
    # The Monday before, still GMT: 08:30 UTC is 08:30 local, too early.
    assert schedule.due_slot(utc(2026, 3, 23, 8, 30)) is None
    assert schedule.due_times("2026-W13")[0] == utc(2026, 3, 23, 9)


def test_clock_change_in_autumn_keeps_nine_o_clock_local() -> None:
    """Clocks go back on Sunday 25 October 2026: Monday 26 October 09:00 GMT is 09:00 UTC."""
    schedule = ReminderSchedule()
    assert schedule.due_times("2026-W44")[0] == utc(2026, 10, 26, 9)
    assert schedule.due_slot(utc(2026, 10, 26, 8, 30)) is None  # 08:30 GMT: one hour early in BST terms
    assert schedule.due_times("2026-W43")[0] == utc(2026, 10, 19, 8)  # BST the week before


def test_the_week_is_the_local_week_around_midnight_and_the_clock_change() -> None:
    schedule = ReminderSchedule()
    # 23:30 UTC on Sunday 29 March 2026 is 00:30 BST on Monday 30 March: the new week.
    assert schedule.week_of(utc(2026, 3, 29, 23, 30)) == "2026-W14"
    # 23:30 UTC on Sunday 25 October 2026 is 23:30 GMT: still the old week.
    assert schedule.week_of(utc(2026, 10, 25, 23, 30)) == "2026-W43"


def test_bank_holiday_moves_the_message_to_the_next_working_day() -> None:
    schedule = ReminderSchedule()
    # Easter Monday, 6 April 2026 (England and Wales): the invitation goes on Tuesday 09:00 BST.
    assert schedule.due_times("2026-W15")[0] == utc(2026, 4, 7, 8)
    # Christmas week 2026: Boxing Day is observed on Monday 28 December.
    assert schedule.due_times("2026-W53")[0] == utc(2026, 12, 29, 9)


def test_each_nation_skips_its_own_bank_holidays() -> None:
    """St Andrew's Day, Monday 30 November 2026, is a bank holiday in Scotland only; Easter
    Monday is not one in Scotland; 17 March 2026 (a Tuesday) is one in Northern Ireland only."""
    england, scotland = ReminderSchedule(), ReminderSchedule(bank_holidays="scotland")
    assert england.due_times("2026-W49")[0] == utc(2026, 11, 30, 9)
    assert scotland.due_times("2026-W49")[0] == utc(2026, 12, 1, 9)
    assert scotland.due_times("2026-W15")[0] == utc(2026, 4, 6, 8)
    tuesday = Moment("tue", "09:00")
    northern = ReminderSchedule(invitation=tuesday, reminders=(), bank_holidays="northern-ireland")
    assert northern.due_times("2026-W12")[0] == utc(2026, 3, 18, 9)
    assert ReminderSchedule(invitation=tuesday, reminders=()).due_times("2026-W12")[0] == utc(
        2026, 3, 17, 9
    )
    assert ReminderSchedule(bank_holidays="none").due_times("2026-W15")[0] == utc(2026, 4, 6, 8)


def test_a_message_pushed_out_of_its_week_is_dropped() -> None:
    """Good Friday, 3 April 2026: a Friday reminder would move to Monday, the next week."""
    schedule = ReminderSchedule(reminders=(Moment("fri", "10:00"),))
    assert schedule.due_times("2026-W14") == [utc(2026, 3, 30, 8), None]


def test_quiet_hours_hold_messages_until_they_end() -> None:
    early = ReminderSchedule(invitation=Moment("mon", "07:00"), reminders=(Moment("wed", "20:00"),))
    assert early.due_times("2026-W50") == [utc(2026, 12, 7, 8), utc(2026, 12, 10, 8)]
    assert not early.may_send_at(utc(2026, 12, 7, 22))
    assert not early.may_send_at(utc(2026, 12, 12, 11))  # Saturday
    assert not early.may_send_at(utc(2026, 12, 28, 11))  # Boxing Day observed
    assert early.may_send_at(utc(2026, 12, 7, 12))
    none = ReminderSchedule(invitation=Moment("mon", "07:00"), quiet_from="00:00", quiet_until="00:00")
    assert none.due_times("2026-W50")[0] == utc(2026, 12, 7, 7)


def test_schedule_round_trips_through_json_and_refuses_nonsense() -> None:
    schedule = ReminderSchedule(
        invitation=Moment("tue", "08:30"),
        reminders=(Moment("wed", "12:00"), Moment("fri", "09:00")),
        bank_holidays="scotland",
    )
    assert ReminderSchedule.from_json(schedule.to_json(), time_zone=LONDON) == schedule
    assert ReminderSchedule.from_json(None) == ReminderSchedule()
    with pytest.raises(ScheduleError):
        ReminderSchedule(reminders=(Moment("mon", "08:00"),))  # before the invitation
    with pytest.raises(ScheduleError):
        Moment("sat", "09:00")
    with pytest.raises(ScheduleError):
        ReminderSchedule(reminders=tuple(Moment("fri", f"1{i}:00") for i in range(4)))
    with pytest.raises(ScheduleError):
        ReminderSchedule(bank_holidays="wales-only")


def test_now_is_read_in_the_organisation_zone_unless_it_has_an_offset() -> None:
    assert parse_now("2026-07-06T09:00", LONDON).astimezone(UTC) == utc(2026, 7, 6, 8)
    assert parse_now("2026-07-06T09:00+00:00", LONDON).astimezone(UTC) == utc(2026, 7, 6, 9)
    with pytest.raises(ScheduleError):
        parse_now("next monday", LONDON)
