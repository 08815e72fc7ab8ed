"""The release calendar: aligned periods only, every longer period a union of whole weeks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import calendar
from models.base import iso_week

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(days)
def test_a_week_sits_in_exactly_one_period_of_each_kind_and_they_nest(day: date) -> None:
    week = iso_week(day)
    periods = calendar.periods_of_week(week)
    for kind, label in periods.items():
        assert week in calendar.weeks_in(label), (kind, label)
    assert calendar.parent(week) == periods["month"]
    assert calendar.parent(periods["month"]) == periods["quarter"]
    assert calendar.parent(periods["quarter"]) == periods["year"]


@given(st.integers(min_value=2001, max_value=2089))
def test_a_year_is_the_union_of_its_children_without_gaps_or_overlaps(year: int) -> None:
    label = str(year)
    months = [m for q in calendar.children(label) for m in calendar.children(q)]
    from_months = [w for m in months for w in calendar.weeks_in(m)]
    assert from_months == calendar.weeks_in(label)
    assert len(set(from_months)) == len(from_months)
    # Consecutive: each week starts seven days after the one before.
    mondays = [calendar.first_day(w) for w in from_months]
    assert all(b - a == timedelta(days=7) for a, b in zip(mondays, mondays[1:], strict=False))
    following = calendar.weeks_in(str(year + 1))[0]
    assert calendar.first_day(following) - mondays[-1] == timedelta(days=7)


def test_a_month_is_the_weeks_whose_thursday_it_holds() -> None:
    # 2026-03-01 is a Sunday: week 9 (Thursday 26 February) belongs to February.
    assert calendar.weeks_in("2026-03") == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    assert calendar.period_of("2026-W09", "month") == "2026-02"
    # ISO week 1 of 2025 starts on 30 December 2024; its Thursday is in January 2025.
    assert calendar.period_of("2025-W01", "year") == "2025"
    assert calendar.last_day("2026-03") == date(2026, 3, 29)


@pytest.mark.parametrize(
    "label", ["2026-W54", "2026-13", "2026-00", "2026-Q5", "2026-03-01", "W10", "", "20261"]
)
def test_anything_but_a_calendar_label_is_refused_with_the_allowed_forms(label: str) -> None:
    with pytest.raises(calendar.PeriodError, match="2026-W10 \\(week\\).*2026 \\(year\\)"):
        calendar.parse(label)


def test_a_label_of_another_kind_is_refused_when_a_kind_is_asked_for() -> None:
    with pytest.raises(calendar.PeriodError, match="not a month"):
        calendar.parse("2026-W10", "month")
    assert calendar.periods_between("2026-11", "2027-01", "month") == ["2026-11", "2026-12", "2027-01"]
    with pytest.raises(calendar.PeriodError):
        calendar.periods_between("2026-W10", "2026-03", "week")


def test_a_period_closes_at_the_end_of_its_last_day_in_the_organisations_zone() -> None:
    closes = calendar.closes_at("2026-W27", "Europe/London")  # Sunday 5 July 2026, summer time
    assert closes.isoformat() == "2026-07-06T00:00:00+01:00"
    assert calendar.releasable_at("2026-W27", time_zone="Europe/London", grace_days=2).day == 8
