"""Freezing releases: each closed period's figures computed once, stored, never revised.

A period (``models.calendar``) is released for an organisation once it has closed (the end of its
last day in the organisation's time zone) and its grace period for late answers has passed.
Periods go out oldest first and, among those ending together, shortest first, so when a month is
released its weeks already are, and the month's cells are decided knowing exactly which week cells
an attacker could subtract from them (rule 3 in ``analytics.privacy.suppression``).

Nothing is computed for a period still open; nothing already released is recomputed. A late
answer or an import into a released period is refused (``models.releases.refuse_released``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert
from sqlmodel import Session, select

from analytics.aggregates import WORK_PATTERNS, OrgTree, load_tree, organisation_tree
from analytics.privacy.inputs import PeriodInputs, comments_by_team, count_responses, read_period
from analytics.privacy.periods import decide_period
from analytics.privacy.rules import (
    COMMENT_PERIOD,
    PARTICIPATION,
    SLICE_PERIOD,
    PrivacyRules,
    band,
    rate_text,
    released_mean,
    rules_for_period,
)
from analytics.privacy.slices import slice_decisions
from analytics.privacy.suppression import decide, people_lower_bound, subtree_vectors
from models import calendar
from models.base import iso_week
from models.db import read_session, write_session
from models.pulse import PulsePeriod
from models.releases import PeriodRelease, ReleasedComment, ReleasedFigure, released_periods


@dataclass(frozen=True)
class ReleaseSchedule:
    """When periods may be released: the grace period after close, in the organisation's zone."""

    grace_days: int = 2
    time_zone: str = "Europe/London"

    def due(self, period: str, now: datetime) -> bool:
        return (
            calendar.releasable_at(period, time_zone=self.time_zone, grace_days=self.grace_days) <= now
        )


def as_of_moment(day: date, time_zone: str) -> datetime:
    """The start of ``day`` in the organisation's zone (``--as-of`` on the command line)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(time_zone))


def due_periods(
    first_week: str, now: datetime, schedule: ReleaseSchedule, released: set[str]
) -> list[str]:
    """Every period of every kind from ``first_week`` on that is due and not yet released, in
    release order: by last day, then shortest first."""
    today_week = iso_week(now.date())
    if first_week > today_week:
        return []
    weeks = calendar.periods_between(first_week, today_week, "week")
    candidates = {calendar.period_of(week, kind) for week in weeks for kind in calendar.PERIOD_KINDS}
    due = [p for p in candidates if p not in released and schedule.due(p, now)]
    order = {kind: index for index, kind in enumerate(calendar.PERIOD_KINDS)}
    return sorted(due, key=lambda p: (calendar.last_day(p), order[calendar.kind_of(p)]))


def release_due(
    engine: Engine,
    *,
    now: datetime,
    rules: PrivacyRules,
    schedule: ReleaseSchedule,
    organisation_ids: Iterable[int] | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> list[tuple[int, str]]:
    """Release every due period of every (or the given) organisation; returns what was released.

    Each period is released in a transaction of its own (a crash leaves whole periods only)."""
    with read_session(engine) as session:
        whole = load_tree(session)
        first = session.exec(select(PulsePeriod.week).order_by(PulsePeriod.week)).first()
    if first is None:
        return []
    roots = list(organisation_ids) if organisation_ids is not None else list(whole.roots)
    done: list[tuple[int, str]] = []
    for root in roots:
        tree = organisation_tree(whole, root)
        with read_session(engine) as session:
            released = set(released_periods(session, organisation_id=root))
        for period in due_periods(str(first), now, schedule, released):
            with write_session(engine) as session:
                release_period(
                    session, tree=tree, root=root, period=period, defaults=rules, today=now.date()
                )
            done.append((root, period))
            if progress is not None:
                progress(tree.units[root].code, period)
    return done


def _frozen(session: Session, *, root: int, period: str) -> dict[tuple[int, str, str], bool]:
    """(unit, sub-period, construct) -> released, for every cell already stored inside ``period``."""
    weeks = calendar.weeks_in(period)
    rows = session.exec(
        select(
            ReleasedFigure.unit_id,
            ReleasedFigure.period,
            ReleasedFigure.construct_id,
            ReleasedFigure.suppressed,
        )
        .join(
            PeriodRelease,
            (PeriodRelease.organisation_id == ReleasedFigure.organisation_id)
            & (PeriodRelease.period == ReleasedFigure.period),
        )
        .where(
            ReleasedFigure.organisation_id == root,
            ReleasedFigure.work_pattern == "",
            PeriodRelease.first_week >= weeks[0],
            PeriodRelease.last_week <= weeks[-1],
            ReleasedFigure.period != period,
        )
    ).all()
    return {(int(u), str(p), str(c)): not suppressed for u, p, c, suppressed in rows}


def release_period(
    session: Session, *, tree: OrgTree, root: int, period: str, defaults: PrivacyRules, today: date
) -> None:
    """Compute and store every cell of one period for one organisation (the caller commits)."""
    rules = rules_for_period(session, organisation_id=root, period=period, defaults=defaults)
    kind = calendar.kind_of(period)
    weeks = calendar.weeks_in(period)
    session.add(
        PeriodRelease(
            organisation_id=root,
            period=period,
            kind=kind,
            first_week=weeks[0],
            last_week=weeks[-1],
            released_on=today,
        )
    )
    if count_responses(session, start_week=weeks[0], end_week=weeks[-1]) == 0:
        return
    inputs = read_period(session, period=period, unit_ids=list(tree.units))
    frozen = _frozen(session, root=root, period=period)
    k = rules.min_group_size
    cells: list[dict[str, object]] = []
    total_reasons: dict[str, dict[int, str | None]] = {}
    memo: dict[tuple, dict[int, str | None]] = {}
    for construct in [PARTICIPATION, *inputs.constructs]:
        own = {
            u: inputs.vector(u, None if construct == PARTICIPATION else construct) for u in tree.units
        }
        # Constructs answered by the same people share their vectors, and so their decisions
        # (the released counts of one are the counts of the other: they must agree).
        key = tuple(sorted(own.items()))
        if key not in memo:
            memo[key] = decide_period(
                tree, own, k, inputs, frozen, None if construct == PARTICIPATION else construct
            )
        reasons = total_reasons[construct] = memo[key]
        people = subtree_vectors(tree, own)
        for unit_id in tree.postorder:
            count = people_lower_bound(people[unit_id])
            if count == 0:
                continue
            reason = reasons.get(unit_id)
            cell = _cell(root, period, unit_id, construct, "", kind, reason)
            if reason is None:
                cell["n"] = band(count)
                if construct == PARTICIPATION:
                    headcount = sum(inputs.headcount.get(u, 0) for u in tree.subtree(unit_id))
                    cell["rate"] = rate_text(count, headcount)
                else:
                    n, total, _ = _subtree_sums(inputs, tree, unit_id, construct)
                    cell["mean"] = released_mean(construct, total, n)
            cells.append(cell)
    if kind == SLICE_PERIOD:
        cells.extend(_slices(tree, inputs, root, period, k, total_reasons))
    if cells:
        session.connection().execute(insert(ReleasedFigure.__table__), cells)  # type: ignore[attr-defined]
    if kind == COMMENT_PERIOD:
        _release_comments(session, tree, inputs, root, period, rules.min_comment_group_size)


def _subtree_sums(
    inputs: PeriodInputs, tree: OrgTree, unit_id: int, construct: str
) -> tuple[int, float, float]:
    n, total, total_sq = 0, 0.0, 0.0
    for member in tree.subtree(unit_id):
        a, b, c = inputs.own_sums(member, construct)
        n, total, total_sq = n + a, total + b, total_sq + c
    return n, total, total_sq


def _slices(
    tree: OrgTree,
    inputs: PeriodInputs,
    root: int,
    period: str,
    k: int,
    totals: dict[str, dict[int, str | None]],
) -> list[dict[str, object]]:
    """Work-pattern slices: a unit's slice is released whole or not at all, only where its total
    is released, and checked exactly against every released total (``analytics.privacy.slices``).
    People per pattern are bounded by the largest single week of that pattern."""
    cells: list[dict[str, object]] = []
    for construct in inputs.constructs:
        vectors = {
            unit_id: tuple(
                inputs.cap(
                    unit_id,
                    max(
                        (
                            inputs.pattern_counts.get((unit_id, week, construct, pattern), 0)
                            for week in inputs.weeks
                        ),
                        default=0,
                    ),
                )
                for pattern in WORK_PATTERNS
            )
            for unit_id in tree.units
        }
        withheld = {u: r for u, r in totals.get(construct, {}).items() if r is not None}
        reasons = slice_decisions(tree, vectors, k, withheld)
        for unit_id in tree.postorder:
            members = tree.subtree(unit_id)
            for index, pattern in enumerate(WORK_PATTERNS):
                n = sum(
                    inputs.pattern_sums.get((m, construct, pattern), (0, 0.0, 0.0))[0] for m in members
                )
                if n == 0:
                    continue
                reason = reasons.get(unit_id)
                cell = _cell(root, period, unit_id, construct, pattern, calendar.kind_of(period), reason)
                if reason is None:
                    people = sum(vectors[m][index] for m in members)
                    total = sum(
                        inputs.pattern_sums.get((m, construct, pattern), (0, 0.0, 0.0))[1]
                        for m in members
                    )
                    cell["n"], cell["mean"] = band(people), released_mean(construct, total, n)
                cells.append(cell)
    return cells


def _release_comments(
    session: Session, tree: OrgTree, inputs: PeriodInputs, root: int, period: str, k_comments: int
) -> None:
    """Comments of every unit whose period holds at least the comment threshold of people (with
    the residual rule at that threshold), stored under random ids: their order carries no time."""
    own = {u: inputs.vector(u) for u in tree.units}
    reasons = decide(tree, own, k_comments)
    released = [unit_id for unit_id in tree.postorder if reasons.get(unit_id) is None]
    if not released:
        return
    texts = comments_by_team(session, team_ids=list(tree.units), weeks=inputs.weeks)
    rows = [
        {
            "id": secrets.token_hex(16),
            "organisation_id": root,
            "period": period,
            "unit_id": unit_id,
            "text": text,
        }
        for unit_id in released
        for member in tree.subtree(unit_id)
        for text in texts.get(member, [])
    ]
    secrets.SystemRandom().shuffle(rows)
    if rows:
        session.connection().execute(insert(ReleasedComment.__table__), rows)  # type: ignore[attr-defined]


def _cell(
    root: int, period: str, unit_id: int, construct: str, pattern: str, kind: str, reason: str | None
) -> dict[str, object]:
    return {
        "organisation_id": root,
        "period": period,
        "unit_id": unit_id,
        "construct_id": construct,
        "work_pattern": pattern,
        "kind": kind,
        "mean": None,
        "n": None,
        "rate": None,
        "suppressed": reason is not None,
        "reason": reason,
    }
