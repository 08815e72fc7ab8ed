"""Aggregates from the maintained tables (SQL GROUP BY) and the organisation-wide data functions,
on SQLite and PostgreSQL: sums, intervals, response rates over active members, thresholds in
force per organisation, and HR-only access."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd
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
from analytics.gate import (
    REASON_NEIGHBOUR,
    REASON_TOO_FEW,
    PrivacyRules,
    organisation_figures,
    organisation_pattern_figures,
    organisation_quadrant,
    organisation_response_rates,
    rules_in_force,
    t_interval,
)
from models.access import AccessDenied, load_viewer
from models.org import Person
from models.org_settings import set_org_setting
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


def test_unit_figures_roll_up_with_intervals_and_reasons(session: Session) -> None:
    small_team_org(session, c_per_week=1)
    frame = organisation_figures(
        session=session, viewer=HR, rules=RULES, start_week="2026-W02", end_week="2026-W02", by="week"
    ).set_index("unit")
    directorate = frame.loc["dir"]
    scores = [60 + d for d in (-8, -4, -2, 0, 0, 2, 2, 4, 6, 0)] + [46, 50, 52, 52] + [34]
    mean, low, high = t_interval(len(scores), sum(scores), sum(s * s for s in scores))
    assert directorate["n"] == 15 and directorate["mean"] == pytest.approx(mean, abs=0.001)
    assert (directorate["ci_low"], directorate["ci_high"]) == pytest.approx((low, high), abs=0.001)
    assert frame.loc["team-big", "n"] == 10 and not frame.loc["team-big", "suppressed"]
    assert frame.loc["team-four", "reason"] == REASON_TOO_FEW
    assert frame.loc["team-three", "reason"] == REASON_TOO_FEW
    window = organisation_figures(
        session=session, viewer=HR, rules=RULES, start_week="2026-W01", end_week="2026-W04", by="window"
    ).set_index("unit")
    assert window.loc["team-four", "reason"] == REASON_NEIGHBOUR  # protects the 1-a-week team
    assert window.loc["dir", "n"] == 60 and window.loc["org", "n"] == 60
    rolling = organisation_figures(
        session=session, viewer=HR, rules=RULES, start_week="2026-W06", end_week="2026-W06", by="rolling"
    ).set_index("unit")
    assert rolling.loc["team-big", "period_start"] == "2026-W03"
    assert rolling.loc["team-big", "basis"] == "pooled over 4 weeks"


def test_response_rates_count_only_members_active_in_the_period(session: Session) -> None:
    org = small_team_org(session)
    leaver = session.get(Person, add_people(session, org["big"], 1, "leaver")[0])
    assert leaver is not None
    leaver.active_to = date(2026, 1, 4)  # Sunday of 2026-W01
    session.add(leaver)
    session.commit()
    members = team_week_members(
        session, team_ids=[org["big"]], start_week="2026-W01", end_week="2026-W02"
    )
    assert members.set_index("week")["members"].to_dict() == {"2026-W01": 13, "2026-W02": 12}
    rates = organisation_response_rates(
        session=session, viewer=HR, rules=RULES, start_week="2026-W02", end_week="2026-W03", by="window"
    ).set_index("unit")
    assert rates.loc["team-big", "response_rate"] == pytest.approx(20 / 24, abs=0.001)
    assert rates.loc["dir", "members"] == 19 and rates.loc["dir", "responses"] == 34
    # 6 responses from 3 people over 2 weeks: released only as a band, and so is the rate
    three = rates.loc["team-three"]
    assert three["responses"] == "5-9" and pd.isna(three["response_rate"])
    assert three["rate_label"] == "83-100%"
    weekly = organisation_response_rates(
        session=session, viewer=HR, rules=RULES, start_week="2026-W02", end_week="2026-W02", by="week"
    ).set_index("unit")
    assert weekly.loc["team-three", "reason"] == REASON_TOO_FEW
    assert pd.isna(weekly.loc["team-three", "responses"])


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


def test_pattern_slices_are_whole_or_withheld(session: Session) -> None:
    org = add_unit(session, "o", "organisation", None)
    a = add_unit(session, "a", "team", org)
    b = add_unit(session, "b", "team", org)
    add_scores(session, a, "2026-W01", [60] * 6, pattern="home")
    add_scores(session, a, "2026-W01", [50] * 6, pattern="office")
    add_scores(session, b, "2026-W01", [55] * 7, pattern="home")
    add_scores(session, b, "2026-W01", [45] * 2, pattern="office")
    session.commit()
    slices = organisation_pattern_figures(
        session=session, viewer=HR, rules=RULES, start_week="2026-W01", end_week="2026-W01"
    )
    by_unit = dict(list(slices.groupby("unit")))
    assert by_unit["b"]["suppressed"].all() and set(by_unit["b"]["reason"]) == {REASON_TOO_FEW}
    # with b's 2 office answers hidden, o's office cell minus a's would reveal them: a is withheld
    assert by_unit["a"]["suppressed"].all() and set(by_unit["a"]["reason"]) == {REASON_NEIGHBOUR}
    whole = by_unit["o"].set_index("work_pattern")
    assert not whole["suppressed"].any()
    assert whole.loc["office", "mean"] == pytest.approx((6 * 50 + 2 * 45) / 8)
    assert whole.loc["office", "n"] == "5-9" and whole.loc["home", "n"] == 13


def test_an_organisations_stricter_threshold_applies_from_the_next_week(session: Session) -> None:
    org = small_team_org(session)
    admin_id = add_people(session, org["big"], 1, "admin")[0]
    grant(session, admin_id, "admin")
    effective = set_org_setting(
        session,
        organisation_id=org["org"],
        key="min_group_size",
        value=11,
        actor="admin0@example.org",
        today=date(2026, 1, 7),  # in 2026-W02: applies from 2026-W03
    )
    session.commit()
    assert effective == "2026-W03"
    before = rules_in_force(
        session, organisation_id=org["org"], start_week="2026-W02", end_week="2026-W02", defaults=RULES
    )
    assert before.min_group_size == 5
    frame = organisation_figures(
        session=session, viewer=HR, rules=RULES, start_week="2026-W02", end_week="2026-W03", by="week"
    )
    big = frame[frame["unit"] == "team-big"].set_index("period_end")
    assert not big.loc["2026-W02", "suppressed"]  # 10 responses pass k=5
    assert big.loc["2026-W03", "suppressed"]  # ... but not the organisation's k=11
    assert big.loc["2026-W03", "reason"] == REASON_TOO_FEW


def test_organisation_functions_are_for_hr_only(session: Session) -> None:
    org = small_team_org(session)
    manager_id = add_people(session, org["big"], 1, "boss")[0]
    grant(session, manager_id, "manager", org["directorate"])
    session.commit()
    manager = load_viewer(session, "boss0@example.org")
    staff = load_viewer(session, "big0@example.org")
    assert manager is not None and staff is not None
    for viewer in (manager, staff):
        args = {"session": session, "viewer": viewer, "rules": RULES}
        with pytest.raises(AccessDenied):
            organisation_figures(**args, start_week="2026-W01", end_week="2026-W02")
        with pytest.raises(AccessDenied):
            organisation_response_rates(**args, start_week="2026-W01", end_week="2026-W02")
        with pytest.raises(AccessDenied):
            organisation_pattern_figures(**args, start_week="2026-W01", end_week="2026-W02")


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
    points = {
        point.team: point
        for point in organisation_quadrant(
            session=session, viewer=HR, rules=RULES, end_week="2026-W06", today=date(2026, 2, 13)
        )
    }
    assert set(points) == {"Big Team", "Four Team", "Three Team"}
    # the 1-a-week team has no released figure of its own: never placed at its parent's value
    assert points["Three Team"].delivery is not None
    assert points["Three Team"].wellbeing is None and points["Three Team"].quadrant is None
    assert points["Big Team"].wellbeing == pytest.approx(60.0)
    assert points["Big Team"].quadrant in {"thriving", "coasting"}  # 60 is above the WHO-5 cut-off
    assert points["Four Team"].note == "no live objectives with key results"
    manager_id = add_people(session, org["big"], 1, "quad-boss")[0]
    grant(session, manager_id, "manager", org["big"])
    session.commit()
    manager = load_viewer(session, "quad-boss0@example.org")
    assert manager is not None
    with pytest.raises(AccessDenied):
        organisation_quadrant(
            session=session, viewer=manager, rules=RULES, end_week="2026-W06", today=date(2026, 2, 13)
        )
