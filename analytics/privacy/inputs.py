"""What the gate reads to release one period of one organisation: people vectors and sums.

Everything is per *own unit* (the unit a response is stored under, normally a team) and added up
the tree by the gate. People come from participation receipts (``models.participation``): one
receipt per person and period, written with the answer, so a block's distinct people is a count
of its receipts. History imported without receipts counts, for a block, as its largest single
week, and never more than the people attached to the unit during the period.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import calendar
from models.org import Person
from models.pulse import PulseResponse, TeamWeekResponses, TeamWeekScore

try:  # receipts per period kind (people counts); absent on databases older than that schema
    from models.participation import people_counts as _people_counts
except ImportError:  # pragma: no cover - only before the receipts-per-period migration
    _people_counts = None

Sums = tuple[int, float, float]  # n, total, total of squares


def receipts(
    session: Session, *, periods: Collection[str], team_ids: Collection[int]
) -> dict[tuple[int, str], int]:
    """Distinct people per (own unit, period) from the participation receipts."""
    if _people_counts is None or not periods:
        return {}
    return _people_counts(session, periods=periods, team_ids=team_ids)


@dataclass
class PeriodInputs:
    """One organisation's data for one period, read in one go."""

    period: str
    weeks: list[str]
    unit_ids: list[int]
    # (unit, week) -> responses; (unit, week, construct) -> sums; (unit, week, construct, pattern) -> n
    responses: dict[tuple[int, str], int] = field(default_factory=dict)
    sums: dict[tuple[int, str, str], Sums] = field(default_factory=dict)
    pattern_counts: dict[tuple[int, str, str, str], int] = field(default_factory=dict)
    pattern_sums: dict[tuple[int, str, str], Sums] = field(
        default_factory=dict
    )  # (unit, construct, pattern)
    people: dict[tuple[int, str], int] = field(default_factory=dict)  # (unit, period or sub-period)
    headcount: dict[int, int] = field(default_factory=dict)

    @property
    def constructs(self) -> list[str]:
        return sorted({construct for _, _, construct in self.sums})

    def cap(self, unit_id: int, value: int) -> int:
        """Answers without receipts never count as more people than were attached to the unit
        during the period, and never as none where answers exist: a cap that hid them would make a
        residual look empty (a team whose people have all left still answered)."""
        if value <= 0:
            return 0
        return min(value, max(self.headcount.get(unit_id, 0), 1))

    def vector(self, unit_id: int, construct: str | None = None) -> tuple[int, ...]:
        """The unit's own people vector for the period: (receipts, responses in each week), the
        weekly counts capped at its headcount (``cap``). For a construct, receipts count only when
        every answer of the unit in the period has it (else only the weekly counts bound its people)."""
        weekly = [
            self.responses.get((unit_id, week), 0)
            if construct is None
            else self.sums.get((unit_id, week, construct), (0, 0.0, 0.0))[0]
            for week in self.weeks
        ]
        everyone = [self.responses.get((unit_id, week), 0) for week in self.weeks]
        receipts_count = self.people.get((unit_id, self.period), 0)
        if construct is not None and weekly != everyone:
            receipts_count = 0
        # Receipts are people, counted exactly: only answers without them are capped.
        return (receipts_count, *(self.cap(unit_id, value) for value in weekly))

    def own_sums(self, unit_id: int, construct: str) -> Sums:
        n, total, total_sq = 0, 0.0, 0.0
        for week in self.weeks:
            a, b, c = self.sums.get((unit_id, week, construct), (0, 0.0, 0.0))
            n, total, total_sq = n + a, total + b, total_sq + c
        return n, total, total_sq


def read_period(session: Session, *, period: str, unit_ids: Sequence[int]) -> PeriodInputs:
    """Read everything the gate needs to release ``period`` for these units."""
    weeks = calendar.weeks_in(period)
    first, last = weeks[0], weeks[-1]
    inputs = PeriodInputs(period=period, weeks=weeks, unit_ids=list(unit_ids))
    wanted = set(unit_ids)
    for team_id, week, n in session.exec(
        select(TeamWeekResponses.team_id, TeamWeekResponses.week, TeamWeekResponses.n).where(
            TeamWeekResponses.week >= first, TeamWeekResponses.week <= last
        )
    ).all():
        if team_id in wanted and n:
            inputs.responses[(int(team_id), str(week))] = int(n)
    rows = session.exec(
        select(
            TeamWeekScore.team_id,
            TeamWeekScore.week,
            TeamWeekScore.construct_id,
            TeamWeekScore.work_pattern,
            TeamWeekScore.n,
            TeamWeekScore.total,
            TeamWeekScore.total_sq,
        ).where(TeamWeekScore.week >= first, TeamWeekScore.week <= last, TeamWeekScore.n > 0)
    ).all()
    for team_id, week, construct, pattern, n, total, total_sq in rows:
        if team_id not in wanted:
            continue
        key = (int(team_id), str(week), str(construct))
        a, b, c = inputs.sums.get(key, (0, 0.0, 0.0))
        inputs.sums[key] = (a + int(n), b + float(total), c + float(total_sq))
        inputs.pattern_counts[(*key, str(pattern))] = int(n)
        slice_key = (int(team_id), str(construct), str(pattern))
        a, b, c = inputs.pattern_sums.get(slice_key, (0, 0.0, 0.0))
        inputs.pattern_sums[slice_key] = (a + int(n), b + float(total), c + float(total_sq))
    inputs.people = receipts(
        session, periods=[period, *calendar.descendants(period)], team_ids=list(unit_ids)
    )
    inputs.headcount = headcounts(session, unit_ids=unit_ids, period=period)
    return inputs


def count_responses(session: Session, *, start_week: str, end_week: str) -> int:
    """Responses stored in a range of weeks (to tell an empty period from a quiet one)."""
    total = session.exec(
        select(func.coalesce(func.sum(TeamWeekResponses.n), 0)).where(
            TeamWeekResponses.week >= start_week, TeamWeekResponses.week <= end_week
        )
    ).one()
    return int(total)


def headcounts(session: Session, *, unit_ids: Collection[int], period: str) -> dict[int, int]:
    """People attached to each unit at any time during the period: no more distinct people than
    this can lie behind its figures, whatever an imported file claims."""
    first, last = calendar.first_day(period), calendar.last_day(period)
    rows = session.exec(
        select(Person.team_id, func.count(col(Person.id)))
        .where(
            col(Person.team_id).in_(list(unit_ids)),
            (col(Person.active_from).is_(None)) | (col(Person.active_from) <= last),
            (col(Person.active_to).is_(None)) | (col(Person.active_to) >= first),
        )
        .group_by(Person.team_id)
    ).all()
    return {int(team_id): int(count) for team_id, count in rows}


def comments_by_team(
    session: Session, *, team_ids: Collection[int], weeks: Sequence[str]
) -> dict[int, list[str]]:
    """The written comments of the period per own unit (one query for the whole organisation)."""
    wanted = set(team_ids)
    rows = session.exec(
        select(PulseResponse.team_id, PulseResponse.comment).where(
            PulseResponse.week >= weeks[0],
            PulseResponse.week <= weeks[-1],
            col(PulseResponse.comment).is_not(None),
            PulseResponse.comment != "",
        )
    ).all()
    found: dict[int, list[str]] = {}
    for team_id, text in rows:
        if team_id in wanted:
            found.setdefault(int(team_id), []).append(str(text))
    return found
