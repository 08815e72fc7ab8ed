"""Aggregates from the maintained tables (SQL GROUP BY) and the organisation-wide data functions,
on SQLite and PostgreSQL: sums, intervals, response rates over active members, thresholds in
force per organisation, and HR-only access."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select
from test_gate_support import (
    HR,
    add_people,
    add_scores,
    add_unit,
    ensure_week,
    grant,
    small_team_org,
)

from analytics.aggregates import team_week_members, team_week_sums, weeks_between
from analytics.privacy import PrivacyRules, ReleaseSchedule, organisation_figures, release_due
from analytics.privacy.quadrant import organisation_quadrant
from models.access import AccessDenied, load_viewer
from models.org import Person
from models.outcomes import CheckIn, KeyResult, Objective, ObjectiveTeam
from models.pulse import PulsePeriod

RULES = PrivacyRules()


def test_weeks_cross_the_iso_year_boundary() -> None:
    assert weeks_between("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]


def test_sums_are_grouped_over_work_patterns_in_sql(session: Session) -> None:
    org = add_unit(session, "o", "organisation", None)
    team = add_unit(session, "t", "team", org)
    add_scores(session, team, "2026-W03", [40, 50], pattern="home")
    add_scores(session, team, "2026-W03", [60, 70, 80], pattern="office")
    session.commit()
    frame = team_week_sums(session, team_ids=[team], start_week="2026-W01", end_week="2026-W05")
    assert frame[["n", "total", "total_sq"]].values.tolist() == [[5, 300.0, 19000.0]]


def test_members_grouped_by_active_dates_equal_a_count_per_person_and_week(session: Session) -> None:
    """Members per team and week, counted from (team, active_from, active_to) groups, equal a plain
    count over every person and recorded week, with joiners, leavers, a week not on record, people
    without a team and a team filter."""
    rng = random.Random(7)
    org = add_unit(session, "o", "organisation", None)
    teams = [add_unit(session, f"t{i}", "team", org) for i in range(4)]
    recorded = [w for w in weeks_between("2026-W01", "2026-W12") if w != "2026-W07"]
    for week in recorded:
        ensure_week(session, week)
    first_monday = date(2025, 12, 29)  # Monday of 2026-W01
    for index in range(60):
        start = first_monday + timedelta(days=rng.randint(-20, 90))
        end = start + timedelta(days=rng.randint(0, 60))
        session.add(
            Person(
                email=f"p{index}@example.org",
                display_name=f"P {index}",
                team_id=rng.choice([*teams, None]),
                active_from=rng.choice([None, start]),
                active_to=rng.choice([None, end]),
            )
        )
    session.commit()
    people = session.exec(select(Person)).all()
    periods = session.exec(select(PulsePeriod)).all()
    for team_ids in (None, teams[:2]):
        expected = {}
        for period in periods:
            if not "2026-W02" <= period.week <= "2026-W11":
                continue
            for person in people:
                if person.team_id is None or (team_ids is not None and person.team_id not in team_ids):
                    continue
                if (person.active_from is None or person.active_from <= period.ends_on) and (
                    person.active_to is None or person.active_to >= period.starts_on
                ):
                    key = (person.team_id, period.week)
                    expected[key] = expected.get(key, 0) + 1
        frame = team_week_members(session, team_ids=team_ids, start_week="2026-W02", end_week="2026-W11")
        found = {(t, w): m for t, w, m in frame[["team_id", "week", "members"]].itertuples(index=False)}
        assert found == expected and len(expected) > 10


def test_organisation_figures_are_for_hr_only(session: Session) -> None:
    org = small_team_org(session)
    manager_id = add_people(session, org["big"], 1, "boss")[0]
    grant(session, manager_id, "manager", org["directorate"])
    session.commit()
    manager = load_viewer(session, "boss0@example.org")
    staff = load_viewer(session, "big0@example.org")
    assert manager is not None and staff is not None
    for viewer in (manager, staff):
        for slices in (False, True):
            with pytest.raises(AccessDenied):
                organisation_figures(session=session, viewer=viewer, kind="week", slices=slices)
        with pytest.raises(AccessDenied):
            organisation_quadrant(session=session, viewer=viewer, today=date(2026, 2, 13))


def add_objective(session: Session, team_id: int, progress_value: float) -> None:
    """A live objective from January to June with one key result 0 -> 100 at ``progress_value``."""
    objective = Objective(
        title=f"Objective {team_id}", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30)
    )
    session.add(objective)
    session.flush()
    session.add(ObjectiveTeam(objective_id=objective.id, team_id=team_id))
    key_result = KeyResult(
        metric_name="Cases closed",
        baseline=0,
        target=100,
        due_date=date(2026, 6, 30),
        objective_id=objective.id,
    )
    session.add(key_result)
    session.flush()
    session.add(
        CheckIn(
            checked_on=date(2026, 2, 9), value=progress_value, confidence=7, key_result_id=key_result.id
        )
    )
    session.commit()


def test_quadrant_uses_only_a_teams_own_released_wellbeing(session: Session) -> None:
    org = small_team_org(session, c_per_week=1)
    add_objective(session, org["big"], 30.0)
    add_objective(session, org["three"], 30.0)
    release_due(
        session.get_bind(),  # type: ignore[arg-type]
        now=datetime(2026, 2, 11, 12, tzinfo=UTC),
        rules=RULES,
        schedule=ReleaseSchedule(),
    )
    points = {
        point.team: point
        for point in organisation_quadrant(session=session, viewer=HR, today=date(2026, 2, 13))
    }
    assert set(points) == {"Big Team", "Four Team", "Three Team"}
    # the 1-a-week team has no released figure of its own: never placed at its parent's value
    assert points["Three Team"].delivery is not None
    assert points["Three Team"].wellbeing is None and points["Three Team"].quadrant is None
    assert points["Big Team"].wellbeing == pytest.approx(60.0)
    assert points["Big Team"].quadrant in {"thriving", "coasting"}  # 60 is above the WHO-5 cut-off
    assert points["Four Team"].note == "no live objectives with key results"
