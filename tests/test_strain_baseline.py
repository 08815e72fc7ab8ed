"""A team's changes are measured against its own previous ``BASELINE_WINDOWS`` x N released
weeks (SQLite and PostgreSQL), over the whole window and over its latest weeks."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from analytics.strain_measures import strain_measures
from analytics.strain_released import (
    BASELINE_WINDOWS,
    recent_weeks,
    strain_inputs_from_database,
)
from models.org import Person, Unit
from tests.team_weeks import add_one_service, add_pulse_periods, add_week_scores

WINDOW = 4
WEEKS = [f"2026-W{number:02d}" for number in range(1, 21)]  # 20 weeks: W17-W20 is the window
ANSWERS = 6
TEAMS = 9


def _seed(
    session: Session, demands_of: dict[str, float], answers_of: dict[str, int] | None = None
) -> dict[str, int]:
    """Nine teams of eight answering six a week (team T1 per week from ``answers_of``); T1's
    demands score per week from ``demands_of`` (others 3.3), everything else flat. Weeks
    released as of late May."""
    add_pulse_periods(session, WEEKS)
    service = add_one_service(session)
    ids: dict[str, int] = {}
    for index in range(1, TEAMS + 1):
        code = f"T{index}"
        team = Unit(code=code, name=code, kind="team", parent_id=service.id)
        session.add(team)
        session.flush()
        ids[code] = team.id or 0
        for member in range(8):
            session.add(Person(email=f"{code}.{member}@test.gov.uk", display_name=code, team_id=team.id))
        for week in WEEKS:
            means = {
                "wellbeing": 60.0 + index,
                "demands": demands_of.get(week, 3.3) if code == "T1" else 3.3 + 0.01 * index,
                "control": 3.5,
                "manager_support": 3.8,
                "peer_support": 3.9,
            }
            answers = (answers_of or {}).get(week, ANSWERS) if code == "T1" else ANSWERS
            add_week_scores(session, team.id or 0, week, answers, means)
    session.commit()
    release_due(
        session.get_bind(),  # type: ignore[arg-type]
        now=datetime(2026, 5, 27, 12, tzinfo=UTC),
        rules=PrivacyRules(),
        schedule=ReleaseSchedule(),
    )
    return ids


def test_the_baseline_spans_its_windows(session: Session) -> None:
    ids = _seed(session, {})
    inputs = strain_inputs_from_database(
        session=session, rules=PrivacyRules(), end_week=WEEKS[-1], window_weeks=WINDOW
    )
    team = ids["T1"]
    window_n = inputs.window.loc[(team, "demands"), "n"]
    baseline_n = inputs.baseline.loc[(team, "demands"), "n"]
    # Released counts are read from their bands, the same each week: the baseline holds
    # BASELINE_WINDOWS times the window's weeks.
    assert window_n > 0
    assert baseline_n == BASELINE_WINDOWS * window_n


SPAN = BASELINE_WINDOWS * WINDOW


@pytest.mark.parametrize(
    ("weeks_before_window", "change"),
    [(1, 1.0 / SPAN), (SPAN, 1.0 / SPAN), (SPAN + 1, 0.0)],
)
def test_the_change_reads_every_baseline_week_and_no_other(
    session: Session, weeks_before_window: int, change: float
) -> None:
    """A week of demands one point heavier anywhere in the baseline, the nearest or the farthest,
    makes the window look lighter by one point over the baseline's weeks; a week before the
    baseline does not move the change at all."""
    week = WEEKS[len(WEEKS) - WINDOW - weeks_before_window]
    ids = _seed(session, {week: 2.3})
    inputs = strain_inputs_from_database(
        session=session, rules=PrivacyRules(), end_week=WEEKS[-1], window_weeks=WINDOW
    )
    features, _ = strain_measures(inputs)
    assert float(features.loc[ids["T1"], "demands_change"]) == pytest.approx(change, abs=1e-6)


def test_a_change_in_the_latest_weeks_is_read_undiluted(session: Session) -> None:
    """Demands a point heavier in the latest half of the window only: the window's change shows
    half of it, the latest weeks' change all of it."""
    latest = recent_weeks(WEEKS[-WINDOW:])
    ids = _seed(session, dict.fromkeys(latest, 2.3))
    inputs = strain_inputs_from_database(
        session=session, rules=PrivacyRules(), end_week=WEEKS[-1], window_weeks=WINDOW
    )
    features, variances = strain_measures(inputs)
    team = ids["T1"]
    assert features.loc[team, "demands_change"] == pytest.approx(-len(latest) / WINDOW, abs=1e-6)
    assert features.loc[team, "demands_recent_change"] == pytest.approx(-1.0, abs=1e-6)
    # Fewer answers behind it, so it is less certain than the whole window's change.
    assert variances.loc[team, "demands_recent_change"] > variances.loc[team, "demands_change"]


def test_the_latest_weeks_are_read_only_where_each_has_a_figure(session: Session) -> None:
    """A team whose own figure is withheld in one of the latest weeks (too few answers) has no
    latest-weeks change: read from the rest, it would be too thin to stand beside the others."""
    ids = _seed(session, {}, answers_of={WEEKS[-1]: 2})
    inputs = strain_inputs_from_database(
        session=session, rules=PrivacyRules(), end_week=WEEKS[-1], window_weeks=WINDOW
    )
    features, _ = strain_measures(inputs)
    assert ids["T1"] in features.index  # still assessed: three of four weeks have a figure
    assert math.isnan(features.loc[ids["T1"], "demands_recent_change"])
    # One neighbour may be withheld too, to protect T1's week (complementary suppression).
    others = features.drop(index=ids["T1"])["demands_recent_change"]
    assert others.notna().sum() >= TEAMS - 2
