"""The assessment rule of strain detection over the database (SQLite and PostgreSQL): a team is
assessed from the weeks a figure of its own is released for, when that is at least half of the
window and includes one of the latest four weeks; withheld weeks are left out, never imputed."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from analytics.privacy import PrivacyRules
from analytics.strain_features import compute_strain_report
from analytics.strain_measures import strain_measures
from analytics.strain_released import strain_inputs_from_database
from models.org import Person, Unit
from tests.team_weeks import add_one_service, add_pulse_periods, add_week_scores, release_weeks

WEEKS = [f"2026-W{number:02d}" for number in range(1, 13)]
WINDOW = WEEKS[4:]  # the default 8-week window ending 2026-W12
RULES = PrivacyRules()
LEVEL = 60.0
HIDDEN_LEVEL = 10.0  # what a withheld week's answers say: would show at once if it were used
#: Per team, the window weeks in which it answers too little to be released (2 people < k = 5).
WITHHELD = {
    "GAPPY": {"2026-W05", "2026-W07", "2026-W09"},  # released in 5 of 8 weeks, the latest among them
    "SPARSE": {"2026-W05", "2026-W06", "2026-W07", "2026-W08", "2026-W10"},  # 3 of 8
    "QUIET-LATELY": {"2026-W09", "2026-W10", "2026-W11", "2026-W12"},  # 4 of 8, none of the last 4
}
ANSWERS = 10


def _week(session: Session, team_id: int, week: str, n: int, wellbeing: float) -> None:
    means = {"wellbeing": wellbeing, "demands": 3.3, "control": 3.6, "manager_support": 3.8}
    add_week_scores(session, team_id, week, n, means)


@pytest.fixture
def teams(session: Session) -> dict[str, int]:
    """One service of twelve teams of 12 people, 10 answering a week; three teams answer 2 in
    some weeks (withheld as too few, and their month withheld since the service is released
    weekly); BUFFER, the smallest team that answers, is the neighbour hidden to protect them."""
    add_pulse_periods(session, WEEKS)
    service = add_one_service(session)
    codes = [*WITHHELD, "BUFFER", *(f"T{i}" for i in range(1, 9))]
    ids: dict[str, int] = {}
    for index, code in enumerate(codes):
        team = Unit(code=code, name=f"Team {code}", kind="team", parent_id=service.id)
        session.add(team)
        session.flush()
        ids[code] = team.id or 0
        for member in range(12):
            session.add(
                Person(email=f"{code.lower()}.{member}@t.gov.uk", display_name=code, team_id=team.id)
            )
        for week in WEEKS:
            if week in WITHHELD.get(code, set()):
                _week(session, team.id or 0, week, 2, HIDDEN_LEVEL)
            else:
                answers = 6 if code == "BUFFER" else ANSWERS
                _week(session, team.id or 0, week, answers, LEVEL + index % 3)
    session.commit()
    release_weeks(session, RULES)
    return ids


def test_a_team_withheld_some_weeks_is_assessed_from_the_rest_never_imputed(
    session: Session, teams: dict[str, int]
) -> None:
    inputs = strain_inputs_from_database(session=session, rules=RULES, end_week="2026-W12")
    gappy = teams["GAPPY"]
    assert gappy in inputs.eligible
    used = set(inputs.weekly.loc[inputs.weekly["team_id"] == gappy, "week"])
    assert used == set(WINDOW) - WITHHELD["GAPPY"]
    features, variances = strain_measures(inputs)
    # The level is the released weeks' own (no withheld answer and no stand-in value enters) ...
    assert features.at[gappy, "wellbeing_level"] == pytest.approx(LEVEL, abs=0.5)
    # ... n counts only the answers of those weeks, so the uncertainty is that of 5 weeks.
    assert features.at[gappy, "n"] == pytest.approx(ANSWERS * len(used))
    steady = teams["T3"]  # same size and level offset, released all 8 weeks
    assert features.at[steady, "n"] == pytest.approx(ANSWERS * len(WINDOW))
    assert variances.at[gappy, "wellbeing_change"] > variances.at[steady, "wellbeing_change"]


def test_a_team_released_in_fewer_than_half_the_weeks_or_none_lately_is_not_assessed(
    session: Session, teams: dict[str, int]
) -> None:
    report = compute_strain_report(session=session, rules=RULES, end_week="2026-W12")
    assert report is not None
    for code in ("SPARSE", "QUIET-LATELY"):
        record = report.result.for_team(teams[code])
        assert record is not None and record.cluster == "not assessed" and not record.flagged
        assert teams[code] not in report.features.index
    assessed = {report.team_code(team) for team in report.features.index}
    assert {"GAPPY", "T1", "T8"} <= assessed
