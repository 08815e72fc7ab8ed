"""Builders for privacy-gate tests: an organisation tree and the maintained weekly sums.

The sums are written straight into ``team_week_score``/``team_week_responses`` exactly as the pulse
submission maintains them (one row per team, week, construct and work pattern).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from models.access import Viewer
from models.base import week_monday
from models.org import Person, RoleGrant, Unit
from models.pulse import PulsePeriod, TeamWeekResponses, TeamWeekScore

HR = Viewer(email="hr@x", display_name="HR", person_id=None, team_id=None, roles=frozenset({"hr"}))


def add_unit(session: Session, code: str, kind: str, parent_id: int | None, name: str = "") -> int:
    unit = Unit(code=code, name=name or code.replace("-", " ").title(), kind=kind, parent_id=parent_id)
    session.add(unit)
    session.flush()
    assert unit.id is not None
    return unit.id


def add_people(session: Session, team_id: int, count: int, prefix: str) -> list[int]:
    people = [
        Person(email=f"{prefix}{i}@example.org", display_name=f"{prefix} {i}", team_id=team_id)
        for i in range(count)
    ]
    session.add_all(people)
    session.flush()
    return [p.id for p in people if p.id is not None]


def grant(session: Session, person_id: int, role: str, unit_id: int | None = None) -> None:
    session.add(RoleGrant(person_id=person_id, role=role, unit_id=unit_id))
    session.flush()


def ensure_week(session: Session, week: str) -> None:
    if session.get(PulsePeriod, week) is None:
        monday = week_monday(week)
        from datetime import timedelta

        session.add(PulsePeriod(week=week, starts_on=monday, ends_on=monday + timedelta(days=6)))
        session.flush()


def add_scores(
    session: Session,
    team_id: int,
    week: str,
    scores: Sequence[float],
    *,
    construct: str = "wellbeing",
    pattern: str = "hybrid",
    count_responses: bool = True,
    comments: int = 0,
) -> None:
    """Add responses' scores on one construct (and, by default, count them as responses)."""
    ensure_week(session, week)
    key = {"team_id": team_id, "week": week, "construct_id": construct, "work_pattern": pattern}
    row = session.exec(select(TeamWeekScore).filter_by(**key)).first() or TeamWeekScore(**key)
    row.n += len(scores)
    row.total += float(sum(scores))
    row.total_sq += float(sum(s * s for s in scores))
    session.add(row)
    if count_responses:
        counter = session.get(TeamWeekResponses, (team_id, week)) or TeamWeekResponses(
            team_id=team_id, week=week
        )
        counter.n += len(scores)
        counter.comments += comments
        session.add(counter)
    session.flush()


def weeks(first: int, last: int, year: int = 2026) -> list[str]:
    return [f"{year}-W{w:02d}" for w in range(first, last + 1)]


def small_team_org(session: Session, *, c_per_week: int = 3) -> dict[str, Any]:
    """Organisation > directorate > teams of 12, 4 and 3 people answering 10, 4 and
    ``c_per_week`` a week for weeks 1-6 (wellbeing scores 60/50/40 plus a spread)."""
    org = add_unit(session, "org", "organisation", None, "Council")
    directorate = add_unit(session, "dir", "directorate", org, "Adult Care")
    teams = {
        "big": add_unit(session, "team-big", "team", directorate, "Big Team"),
        "four": add_unit(session, "team-four", "team", directorate, "Four Team"),
        "three": add_unit(session, "team-three", "team", directorate, "Three Team"),
    }
    for label, size in (("big", 12), ("four", 4), ("three", 3)):
        add_people(session, teams[label], size, label)
    for week in weeks(1, 6):
        add_scores(session, teams["big"], week, [60 + d for d in (-8, -4, -2, 0, 0, 2, 2, 4, 6, 0)])
        add_scores(session, teams["four"], week, [50 - 4, 50, 50 + 2, 50 + 2])
        add_scores(session, teams["three"], week, [40 + d for d in (-6, 0, 6, 3, -3)][:c_per_week])
    session.commit()
    return {"org": org, "directorate": directorate, **teams}
