"""Raw aggregate sums straight from the maintained tables, computed in SQL (GROUP BY).

Nothing here is released: these are the inputs of the privacy gate (``analytics/gate.py``), which
is the only module that turns them into figures a person may see. The sums are additive (n, total,
total_sq), so pooling weeks and rolling teams up into their parents are plain sums done by the gate.
Memory and time depend on teams x weeks, never on the number of responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from models.base import iso_week, week_monday
from models.org import Person, Unit
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
    if root_id is None:
        return tree
    keep = tree.subtree(root_id)
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
    """Per team and week: people active in that week (active_from/active_to overlap the week)."""
    active = and_(
        or_(col(Person.active_from).is_(None), col(Person.active_from) <= PulsePeriod.ends_on),
        or_(col(Person.active_to).is_(None), col(Person.active_to) >= PulsePeriod.starts_on),
    )
    query = (
        select(Person.team_id, PulsePeriod.week, func.count(col(Person.id)))
        .join(PulsePeriod, active)
        .where(
            col(Person.team_id).is_not(None),
            PulsePeriod.week >= start_week,
            PulsePeriod.week <= end_week,
            _in(Person.team_id, team_ids),
        )
        .group_by(Person.team_id, PulsePeriod.week)
    )
    rows = [tuple(row) for row in session.exec(query).all()]
    frame = pd.DataFrame(rows, columns=["team_id", "week", "members"])
    return frame.astype({"team_id": int, "members": int})


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
