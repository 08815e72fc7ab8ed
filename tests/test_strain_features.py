"""Strain features and verdicts read from released figures (SQLite and PostgreSQL): only teams
the assessment rule admits enter, smaller teams carry more uncertainty, planted strain is flagged
with reasons, and access is enforced in the service functions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from analytics.privacy import PrivacyRules
from analytics.strain_features import (
    compute_strain_report,
    strain_features,
    strain_report,
    team_strain_status,
)
from analytics.strain_measures import FEATURES, strain_measures
from analytics.strain_released import strain_inputs_from_database
from app.cli import cli
from models.access import AccessDenied, load_viewer
from models.org import Person, RoleGrant, Unit
from tests.team_weeks import add_pulse_periods, add_week_scores, release_weeks

WEEKS = [f"2026-W{number:02d}" for number in range(1, 13)]
WINDOW_START = 4  # the 8-week window is W05..W12
RULES = PrivacyRules()


@pytest.fixture
def organisation(session: Session) -> dict[str, int]:
    """Two services with 8 teams each (and S1-T9, the neighbour hidden to protect S1-T8); teams
    S1-T1 and S2-T1 planted as strained; S1-T8 small (one answer a week, never reaches k even
    pooled); S2-T7 and S2-T8 share a low raw level but
    differ in size."""
    add_pulse_periods(session, WEEKS)
    root = Unit(code="ORG", name="Test Council", kind="organisation")
    session.add(root)
    session.flush()
    ids: dict[str, int] = {"ORG": root.id or 0}
    rng = np.random.default_rng(42)
    for service_index in (1, 2):
        service = Unit(
            code=f"S{service_index}", name=f"Service {service_index}", kind="service", parent_id=root.id
        )
        session.add(service)
        session.flush()
        for team_index in range(1, 10 if service_index == 1 else 9):
            code = f"S{service_index}-T{team_index}"
            team = Unit(code=code, name=f"Team {code}", kind="team", parent_id=service.id)
            session.add(team)
            session.flush()
            ids[code] = team.id or 0
            size = 3 if code == "S1-T8" else (8 if code == "S2-T8" else 12)
            if code == "S2-T7":
                size = 30
            for member in range(size):
                session.add(
                    Person(
                        email=f"{code.lower()}.{member}@test.gov.uk",
                        display_name=f"{code} {member}",
                        team_id=team.id,
                    )
                )
            planted = team_index == 1
            level = 45.0 if code in ("S2-T7", "S2-T8") else 62.0 + rng.normal(0, 3)
            for index, week in enumerate(WEEKS):
                ramp = max(0, index - WINDOW_START + 1) / 8 if planted else 0.0
                answered = max(1, round(size * (0.8 - (0.3 * ramp if planted else rng.uniform(0, 0.1)))))
                if code == "S1-T8":
                    answered = 1  # 4 answers in any 4-week pool: below k = 5
                if code == "S1-T9":
                    # The smallest team beside S1-T8: hidden every week so that the service minus
                    # its released teams is never S1-T8's one answer (complementary suppression).
                    answered = 5
                means = {
                    "wellbeing": level - 18 * ramp + rng.normal(0, 2),
                    "demands": 3.3 - 1.0 * ramp + rng.normal(0, 0.1),
                    "control": 3.6 + rng.normal(0, 0.1),
                    "manager_support": 3.8 - 0.8 * ramp + rng.normal(0, 0.1),
                    "peer_support": 3.9 + rng.normal(0, 0.1),
                }
                add_week_scores(session, team.id or 0, week, answered, means)
    session.flush()
    people = {p.email: p.id for p in session.exec(select(Person)).all()}
    session.add(RoleGrant(person_id=people["s1-t1.0@test.gov.uk"], role="manager", unit_id=ids["S1-T1"]))
    session.add(RoleGrant(person_id=people["s1-t2.0@test.gov.uk"], role="manager", unit_id=ids["S1-T2"]))
    session.add(RoleGrant(person_id=people["s2-t2.1@test.gov.uk"], role="hr"))
    session.commit()
    # Strain reads released weeks only: release W01-W12 as of the Wednesday after they close.
    release_weeks(session, RULES)
    return ids


def test_only_teams_that_pass_the_gate_enter(session: Session, organisation: dict[str, int]) -> None:
    features = strain_features(session=session, rules=RULES, end_week="2026-W12")
    assert organisation["S1-T8"] not in features.index
    assert organisation["S1-T9"] not in features.index  # hidden to protect S1-T8 every week
    assert set(features.index) == {team_id for code, team_id in organisation.items() if "-T" in code} - {
        organisation["S1-T8"],
        organisation["S1-T9"],
    }
    assert list(features.columns) == ["n", *FEATURES]


def test_smaller_teams_carry_more_uncertainty_and_are_shrunk_more(
    session: Session, organisation: dict[str, int]
) -> None:
    """The measures carry their sampling variance, and the detector shrinks the smaller of two
    teams with the same raw level further toward the parent."""
    inputs = strain_inputs_from_database(session=session, rules=RULES, end_week="2026-W12")
    features, variances = strain_measures(inputs)
    big, small = organisation["S2-T7"], organisation["S2-T8"]
    assert variances.at[small, "wellbeing_level"] > variances.at[big, "wellbeing_level"]
    raw = 45.0  # both teams' raw level before week noise; the rest of the service sits near 62
    assert abs(features.at[big, "wellbeing_level"] - raw) < 6
    assert abs(features.at[small, "wellbeing_level"] - raw) < 6


def test_planted_strain_shows_in_the_features(session: Session, organisation: dict[str, int]) -> None:
    features = strain_features(session=session, rules=RULES, end_week="2026-W12")
    planted = features.loc[[organisation["S1-T1"], organisation["S2-T1"]]]
    others = features.drop(index=planted.index)
    assert (planted["wellbeing_change"] < others["wellbeing_change"].min()).all()
    assert (planted["demands"] < others["demands"].min()).all()
    assert (planted["response_rate_change"] < others["response_rate_change"].min()).all()
    assert features["delivery_gap"].isna().all(), "no objectives in this organisation: missing, not zero"


@pytest.mark.usefixtures("organisation")
def test_planted_teams_are_flagged_with_reasons_and_the_rest_are_not(session: Session) -> None:
    report = compute_strain_report(session=session, rules=RULES, end_week="2026-W12")
    assert report is not None
    flagged = {report.team_code(record.team) for record in report.result.flagged}
    assert flagged == {"S1-T1", "S2-T1"}
    for record in report.result.flagged:
        texts = [reason.text for reason in record.reasons]
        assert texts and all("worse than most teams" in text for text in texts)
    assert any("delivery" in note.lower() or "Outcome" in note for note in report.result.notes)


@pytest.mark.usefixtures("organisation")
def test_hr_sees_every_team_and_others_are_refused(session: Session) -> None:
    hr = load_viewer(session, "s2-t2.1@test.gov.uk")
    manager = load_viewer(session, "s1-t2.0@test.gov.uk")
    assert hr is not None and manager is not None
    report = strain_report(session=session, viewer=hr, rules=RULES, end_week="2026-W12")
    assert report is not None and len(report.table()) == 17  # 15 assessed, 2 listed as not assessed
    with pytest.raises(AccessDenied):
        strain_report(session=session, viewer=manager, rules=RULES, end_week="2026-W12")


def test_a_manager_sees_their_own_team_flag_and_not_another_team(
    session: Session, organisation: dict[str, int]
) -> None:
    manager = load_viewer(session, "s1-t1.0@test.gov.uk")
    assert manager is not None
    status = team_strain_status(
        session=session, viewer=manager, rules=RULES, team_id=organisation["S1-T1"], end_week="2026-W12"
    )
    assert status.assessed and status.record is not None and status.record.flagged
    assert status.record.reasons
    with pytest.raises(AccessDenied):
        team_strain_status(
            session=session,
            viewer=manager,
            rules=RULES,
            team_id=organisation["S2-T1"],
            end_week="2026-W12",
        )


def test_a_small_team_is_told_why_it_is_not_assessed(
    session: Session, organisation: dict[str, int]
) -> None:
    hr = load_viewer(session, "s2-t2.1@test.gov.uk")
    assert hr is not None
    status = team_strain_status(
        session=session, viewer=hr, rules=RULES, team_id=organisation["S1-T8"], end_week="2026-W12"
    )
    assert not status.assessed and status.record is not None and not status.record.flagged
    assert status.record.cluster == "not assessed"
    assert "fewer than half" in status.message and "parent unit" in status.message


@pytest.mark.usefixtures("organisation")
def test_cli_over_the_database_prints_json_per_eligible_team(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["strain", "--database-url", db_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == 17
    small = next(record for record in records if record["team"] == "S1-T8")
    assert small["cluster"] == "not assessed" and not small["flagged"] and not small["alert"]
    assert {record["team"] for record in records if record["flagged"]} == {"S1-T1", "S2-T1"}
    assert all(
        {"team", "flagged", "cluster", "score", "reasons", "alert"} <= set(record) for record in records
    )


@pytest.mark.usefixtures("engine")
def test_cli_over_an_empty_database_says_so(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["strain", "--database-url", db_url])
    assert result.exit_code != 0
    assert "no pulse answers" in result.output
