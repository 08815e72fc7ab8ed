"""Raw aggregate sums straight from the maintained tables, computed in SQL (GROUP BY).

Nothing here is released: these are the inputs of the release job (``analytics/privacy/``), which
is the only module that turns them into figures a person may see. The sums are additive (n, total,
total_sq), so pooling weeks and rolling teams up into their parents are plain sums done by the gate.
Memory and time depend on teams x weeks, never on the number of responses.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.base import iso_week, week_monday
from models.org import Person, Unit
from models.outcomes import OrgSetting
from models.pulse import PulsePeriod, PulseResponse, TeamWeekResponses, TeamWeekScore

WORK_PATTERNS: tuple[str, ...] = ("home", "hybrid", "office", "site", "unknown")


def weeks_between(start_week: str, end_week: str) -> list[str]:
    """Every ISO week label from ``start_week`` to ``end_week`` inclusive (empty if reversed)."""
    first, last = week_monday(start_week), week_monday(end_week)
    weeks: list[str] = []
    day = first
    while day <= last:
        weeks.append(iso_week(day))
        day += timedelta(days=7)
    return weeks


def shift_week(week: str, delta: int) -> str:
    """The ISO week ``delta`` weeks after (negative: before) ``week``."""
    return iso_week(week_monday(week) + timedelta(days=7 * delta))


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None


class OrgTree:
    """The unit tree (one or several organisations) with the orders the gate walks it in."""

    def __init__(self, units: Iterable[UnitInfo]) -> None:
        self.units: dict[int, UnitInfo] = {unit.id: unit for unit in units}
        self.children: dict[int, list[int]] = {unit_id: [] for unit_id in self.units}
        self.roots: list[int] = []
        for unit in sorted(self.units.values(), key=lambda u: u.code):
            if unit.parent_id is not None and unit.parent_id in self.units:
                self.children[unit.parent_id].append(unit.id)
            else:
                self.roots.append(unit.id)
        self._subtrees: dict[int, frozenset[int]] = {}
        self.postorder: list[int] = []
        for root in self.roots:
            stack: list[tuple[int, bool]] = [(root, False)]
            while stack:
                unit_id, expanded = stack.pop()
                if expanded:
                    self.postorder.append(unit_id)
                    continue
                stack.append((unit_id, True))
                stack.extend((child, False) for child in reversed(self.children[unit_id]))

    def parent(self, unit_id: int) -> int | None:
        parent_id = self.units[unit_id].parent_id
        return parent_id if parent_id in self.units else None

    def ancestors(self, unit_id: int) -> list[int]:
        """Parent first, root last."""
        found: list[int] = []
        current = self.parent(unit_id)
        while current is not None:
            found.append(current)
            current = self.parent(current)
        return found

    def root_of(self, unit_id: int) -> int:
        chain = self.ancestors(unit_id)
        return chain[-1] if chain else unit_id

    def subtree(self, unit_id: int) -> set[int]:
        """The unit and every unit below it (memoised: the tree does not change)."""
        if unit_id not in self._subtrees:
            found: set[int] = set()
            stack = [unit_id]
            while stack:
                current = stack.pop()
                found.add(current)
                stack.extend(self.children[current])
            self._subtrees[unit_id] = frozenset(found)
        return set(self._subtrees[unit_id])

    def depth(self, unit_id: int) -> int:
        return len(self.ancestors(unit_id))


def load_tree(session: Session, root_id: int | None = None) -> OrgTree:
    """The whole unit tree, or only the organisation rooted at ``root_id``."""
    rows = session.exec(select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id)).all()
    tree = OrgTree(UnitInfo(*row) for row in rows)
    return tree if root_id is None else organisation_tree(tree, root_id)


def organisation_tree(tree: OrgTree, root_id: int) -> OrgTree:
    """The part of an already loaded tree rooted at ``root_id`` (no second query)."""
    keep = tree.subtree(root_id)
    if len(keep) == len(tree.units):
        return tree  # a single organisation: the whole tree
    return OrgTree(unit for unit in tree.units.values() if unit.id in keep)


def _in(column, values: Sequence | None):  # type: ignore[no-untyped-def]
    return True if values is None else col(column).in_(list(values))


def team_week_sums(
    session: Session,
    *,
    team_ids: Sequence[int] | None,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per team, week and construct: n, total, total_sq summed over work patterns."""
    query = (
        select(
            TeamWeekScore.team_id,
            TeamWeekScore.week,
            TeamWeekScore.construct_id,
            func.sum(TeamWeekScore.n),
            func.sum(TeamWeekScore.total),
            func.sum(TeamWeekScore.total_sq),
        )
        .where(
            TeamWeekScore.week >= start_week,
            TeamWeekScore.week <= end_week,
            _in(TeamWeekScore.team_id, team_ids),
            _in(TeamWeekScore.construct_id, constructs),
        )
        .group_by(TeamWeekScore.team_id, TeamWeekScore.week, TeamWeekScore.construct_id)
    )
    rows = [tuple(row) for row in session.exec(query).all()]
    frame = pd.DataFrame(rows, columns=["team_id", "week", "construct", "n", "total", "total_sq"])
    return frame.astype({"team_id": int, "n": int, "total": float, "total_sq": float})


def team_pattern_sums(
    session: Session,
    *,
    team_ids: Sequence[int] | None,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per team, construct and work pattern over the whole range: n, total, total_sq."""
    query = (
        select(
            TeamWeekScore.team_id,
            TeamWeekScore.construct_id,
            TeamWeekScore.work_pattern,
            func.sum(TeamWeekScore.n),
            func.sum(TeamWeekScore.total),
            func.sum(TeamWeekScore.total_sq),
        )
        .where(
            TeamWeekScore.week >= start_week,
            TeamWeekScore.week <= end_week,
            _in(TeamWeekScore.team_id, team_ids),
            _in(TeamWeekScore.construct_id, constructs),
        )
        .group_by(TeamWeekScore.team_id, TeamWeekScore.construct_id, TeamWeekScore.work_pattern)
    )
    rows = [tuple(row) for row in session.exec(query).all()]
    frame = pd.DataFrame(
        rows, columns=["team_id", "construct", "work_pattern", "n", "total", "total_sq"]
    )
    return frame.astype({"team_id": int, "n": int, "total": float, "total_sq": float})


def team_week_response_counts(
    session: Session, *, team_ids: Sequence[int] | None, start_week: str, end_week: str
) -> pd.DataFrame:
    """Per team and week: responses and comments (the response-rate numerator)."""
    query = select(
        TeamWeekResponses.team_id,
        TeamWeekResponses.week,
        TeamWeekResponses.n,
        TeamWeekResponses.comments,
    ).where(
        TeamWeekResponses.week >= start_week,
        TeamWeekResponses.week <= end_week,
        _in(TeamWeekResponses.team_id, team_ids),
    )
    rows = [tuple(row) for row in session.exec(query).all()]
    frame = pd.DataFrame(rows, columns=["team_id", "week", "n", "comments"])
    return frame.astype({"team_id": int, "n": int, "comments": int})


def team_week_members(
    session: Session, *, team_ids: Sequence[int] | None, start_week: str, end_week: str
) -> pd.DataFrame:
    """Per team and week: people active in that week (active_from/active_to overlap the week).

    People are counted in SQL grouped by (team, active_from, active_to), so the database returns
    about one row per team rather than people x weeks; each group's weeks are a contiguous run of
    the recorded pulse periods (found by bisection), added up per team with a difference array."""
    periods = session.exec(
        select(PulsePeriod.week, PulsePeriod.starts_on, PulsePeriod.ends_on)
        .where(PulsePeriod.week >= start_week, PulsePeriod.week <= end_week)
        .order_by(col(PulsePeriod.week))
    ).all()
    groups = session.exec(
        select(Person.team_id, Person.active_from, Person.active_to, func.count(col(Person.id)))
        .where(col(Person.team_id).is_not(None), _in(Person.team_id, team_ids))
        .group_by(Person.team_id, Person.active_from, Person.active_to)
    ).all()
    labels = [str(week) for week, _, _ in periods]
    starts = [starts_on for _, starts_on, _ in periods]
    ends = [ends_on for _, _, ends_on in periods]
    steps: dict[int, list[int]] = {}
    for team_id, active_from, active_to, count in groups:
        # Active in a week when active_from <= its Sunday and active_to >= its Monday.
        first = 0 if active_from is None else bisect_left(ends, active_from)
        stop = len(labels) if active_to is None else bisect_right(starts, active_to)
        if first >= stop:
            continue
        step = steps.setdefault(int(team_id), [0] * (len(labels) + 1))
        step[first] += int(count)
        step[stop] -= int(count)
    rows: list[tuple[int, str, int]] = []
    for team_id in sorted(steps):
        running = 0
        for index, label in enumerate(labels):
            running += steps[team_id][index]
            if running:
                rows.append((team_id, label, running))
    frame = pd.DataFrame(rows, columns=["team_id", "week", "members"])
    return frame.astype({"team_id": int, "members": int})


def response_fingerprint(session: Session, *, start_week: str, end_week: str) -> tuple[int, int, int]:
    """(rows, responses, responses x team id) of ``team_week_responses`` in the range: cheap, and it
    changes with every submission (they only ever add a response to one team-week, in the same
    transaction as the construct sums), so a cached gate decision keyed by it cannot go stale."""
    n = col(TeamWeekResponses.n)
    row = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(n), 0),
            func.coalesce(func.sum(n * col(TeamWeekResponses.team_id)), 0),
        ).where(TeamWeekResponses.week >= start_week, TeamWeekResponses.week <= end_week)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def setting_rows(session: Session, *, organisation_id: int) -> tuple[tuple[int, str, str, str], ...]:
    """Every setting row of the organisation, whole (a change within a week replaces the row's
    value in place, so its id alone would not show it): part of a gate cache key."""
    rows = session.exec(
        select(OrgSetting.id, OrgSetting.key, OrgSetting.value, OrgSetting.effective_from)
        .where(OrgSetting.organisation_id == organisation_id)
        .order_by(col(OrgSetting.id))
    ).all()
    return tuple((int(i), str(k), str(v), str(w)) for i, k, v, w in rows)


def comments_for(
    session: Session, *, team_ids: Sequence[int], start_week: str, end_week: str
) -> list[str]:
    """The comment texts of the teams over the range, in alphabetical order (no week, no team)."""
    query = select(PulseResponse.comment).where(
        col(PulseResponse.team_id).in_(list(team_ids)),
        PulseResponse.week >= start_week,
        PulseResponse.week <= end_week,
        col(PulseResponse.comment).is_not(None),
        PulseResponse.comment != "",
    )
    return sorted(str(text) for text in session.exec(query).all())


def instrument_versions(
    session: Session, *, team_ids: Sequence[int] | None, start_week: str, end_week: str
) -> list[str]:
    """Distinct instrument versions answered in the range (metadata for an open-data release)."""
    query = (
        select(PulseResponse.instrument_version)
        .distinct()
        .where(
            PulseResponse.week >= start_week,
            PulseResponse.week <= end_week,
            _in(PulseResponse.team_id, team_ids),
        )
    )
    return sorted(str(version) for version in session.exec(query).all())


def known_weeks(session: Session) -> list[str]:
    """Every pulse period on record, oldest first."""
    return [
        str(week) for week in session.exec(select(PulsePeriod.week).order_by(PulsePeriod.week)).all()
    ]
