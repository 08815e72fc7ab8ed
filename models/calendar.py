"""The release calendar: the only periods any figure is ever computed, stored or shown for.

A figure exists for a fixed, aligned period of one of four kinds, never for a free date range:

| kind      | label      | weeks                                                   |
| --------- | ---------- | ------------------------------------------------------- |
| `week`    | `2026-W10` | one ISO week (Monday to Sunday)                         |
| `month`   | `2026-03`  | the ISO weeks whose Thursday falls in March 2026        |
| `quarter` | `2026-Q1`  | the weeks of its three months                           |
| `year`    | `2026`     | the weeks of its four quarters (= the ISO weeks of 2026) |

A week belongs to the month (and so the quarter and year) that holds its Thursday, so every longer
period is a union of whole weeks and the periods form a tree: year > quarter > month > week. Free
ranges are what made differencing attacks possible (window W10-W17 minus W10-W16 is one person's
week 17), so nothing in the product accepts one: labels are parsed here and refused otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from models.base import iso_week, week_monday

PeriodKind = Literal["week", "month", "quarter", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

LABEL_EXAMPLES: dict[PeriodKind, str] = {
    "week": "2026-W10",
    "month": "2026-03",
    "quarter": "2026-Q1",
    "year": "2026",
}

_PATTERNS: dict[PeriodKind, re.Pattern[str]] = {
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}


class PeriodError(ValueError):
    """A label that is not a period of the release calendar (the message says what is allowed)."""


def allowed_forms(kind: PeriodKind | None = None) -> str:
    """Human text naming the label forms allowed, for error messages."""
    kinds = (kind,) if kind else PERIOD_KINDS
    return ", ".join(f"{LABEL_EXAMPLES[k]} ({k})" for k in kinds)


@lru_cache(maxsize=4096)
def kind_of(label: str) -> PeriodKind:
    """The kind of a period label; raises PeriodError when it is not a calendar period."""
    parse(label)
    for kind, pattern in _PATTERNS.items():
        if pattern.match(label):
            return kind
    raise PeriodError(f"{label!r} is not a period; use {allowed_forms()}")  # pragma: no cover


def parse(label: str, kind: PeriodKind | None = None) -> str:
    """Check a label (of ``kind`` when given) and return it; PeriodError names the allowed forms."""
    text = str(label).strip()
    for candidate, pattern in _PATTERNS.items():
        if kind is not None and candidate != kind:
            continue
        match = pattern.match(text)
        if not match:
            continue
        year = int(match.group(1))
        if not 1900 <= year <= 9998:
            break
        if candidate == "week":
            try:
                week_monday(text)
            except ValueError:
                break
        if candidate == "month" and not 1 <= int(match.group(2)) <= 12:
            break
        return text
    what = kind or "period"
    raise PeriodError(f"{label!r} is not a {what} of the release calendar; use {allowed_forms(kind)}")


def _thursday(week: str) -> date:
    return week_monday(week) + timedelta(days=3)


@lru_cache(maxsize=65536)
def period_of(week: str, kind: PeriodKind) -> str:
    """The period of ``kind`` that holds an ISO week (by its Thursday)."""
    if kind == "week":
        return week
    thursday = _thursday(week)
    if kind == "month":
        return f"{thursday.year}-{thursday.month:02d}"
    if kind == "quarter":
        return f"{thursday.year}-Q{(thursday.month - 1) // 3 + 1}"
    return f"{thursday.year}"


def periods_of_week(week: str) -> dict[PeriodKind, str]:
    """Every period (one of each kind) that holds a week: what a participation receipt is written for."""
    return {kind: period_of(week, kind) for kind in PERIOD_KINDS}


def _months(label: str) -> list[tuple[int, int]]:
    kind = kind_of(label)
    year = int(label[:4])
    if kind == "month":
        return [(year, int(label[5:7]))]
    if kind == "quarter":
        quarter = int(label[-1])
        return [(year, m) for m in range(3 * quarter - 2, 3 * quarter + 1)]
    if kind == "year":
        return [(year, m) for m in range(1, 13)]
    raise PeriodError(f"{label!r} is a week")


def weeks_in(label: str) -> list[str]:
    """The ISO weeks of a period, in time order."""
    return list(_weeks(label))


@lru_cache(maxsize=4096)
def _weeks(label: str) -> tuple[str, ...]:
    if kind_of(label) == "week":
        return (label,)
    months = _months(label)
    first_year, first_month = months[0]
    last_year, last_month = months[-1]
    start = date(first_year, first_month, 1)
    end = date(last_year + (last_month == 12), last_month % 12 + 1, 1) - timedelta(days=1)
    # The first Thursday on or after the first day, then every seventh day up to the last day.
    thursday = start + timedelta(days=(3 - start.weekday()) % 7)
    weeks = []
    while thursday <= end:
        weeks.append(iso_week(thursday))
        thursday += timedelta(days=7)
    return tuple(weeks)


def first_week(label: str) -> str:
    return _weeks(label)[0]


def last_week(label: str) -> str:
    return _weeks(label)[-1]


def children(label: str) -> list[str]:
    """The periods one level down the calendar tree (year > quarter > month > week)."""
    kind = kind_of(label)
    if kind == "week":
        return []
    if kind == "month":
        return weeks_in(label)
    if kind == "quarter":
        return [f"{y}-{m:02d}" for y, m in _months(label)]
    return [f"{label}-Q{q}" for q in range(1, 5)]


def descendants(label: str) -> list[str]:
    """Every period strictly inside ``label``, down to its weeks."""
    found: list[str] = []
    stack = children(label)
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children(current))
    return found


def parent(label: str) -> str | None:
    """The period one level up the calendar tree, or None for a year."""
    kind = kind_of(label)
    if kind == "year":
        return None
    if kind == "week":
        return period_of(label, "month")
    if kind == "month":
        return f"{label[:4]}-Q{(int(label[5:7]) - 1) // 3 + 1}"
    return label[:4]


def last_day(label: str) -> date:
    """The last day of a period: the Sunday of its last week."""
    return week_monday(last_week(label)) + timedelta(days=6)


def first_day(label: str) -> date:
    return week_monday(first_week(label))


def closes_at(label: str, time_zone: str) -> datetime:
    """When a period closes: the end of its last day in the organisation's time zone."""
    return datetime.combine(last_day(label) + timedelta(days=1), time(0), tzinfo=ZoneInfo(time_zone))


def releasable_at(label: str, *, time_zone: str, grace_days: int) -> datetime:
    """When a closed period may be released: its close plus the grace period for late answers."""
    return closes_at(label, time_zone) + timedelta(days=grace_days)


def periods_between(start: str, end: str, kind: PeriodKind) -> list[str]:
    """Every period of ``kind`` from ``start`` to ``end`` (labels of that kind), in time order."""
    parse(start, kind)
    parse(end, kind)
    if start > end:
        raise PeriodError(f"{start} is after {end}")
    return list(_walk(start, end, kind))


def _walk(start: str, end: str, kind: PeriodKind) -> Iterator[str]:
    current = start
    while current <= end:
        yield current
        following = period_of(iso_week(last_day(current) + timedelta(days=1)), kind)
        current = following


def periods_covering(weeks: Sequence[str], kind: PeriodKind) -> list[str]:
    """The periods of ``kind`` that hold any of these weeks, in time order, without repeats."""
    return sorted({period_of(week, kind) for week in weeks})
