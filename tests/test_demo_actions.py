"""The demo council shows insight: measurable demo actions, drivers for HR and a large unit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from analytics.action_report import actions_overview
from analytics.driver_release import DRIVER_MIN_PEOPLE, unit_drivers
from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from analytics.privacy.rules import SYSTEM_VIEWER
from models.org import Unit
from surveys.demo import seed_demo
from surveys.demo_actions import seed_demo_actions

TODAY = date(2026, 11, 25)


@pytest.mark.slow
def test_the_demo_has_a_measured_action_and_drivers_for_hr_and_a_large_unit(engine: Engine) -> None:
    summary = seed_demo(engine, participation_key=b"k" * 32, seed=1, teams=30, weeks=26, today=TODAY)
    release_due(
        engine,
        now=datetime(2026, 11, 25, 12, tzinfo=UTC),
        rules=PrivacyRules(),
        schedule=ReleaseSchedule(),
    )
    message = seed_demo_actions(engine, strained_team_codes=summary.strained_team_codes)
    assert "4 recorded" in message
    with Session(engine) as session:
        overview = actions_overview(session=session, viewer=SYSTEM_VIEWER)
        measured = overview[overview["estimate"].notna()]
        assert len(measured) == 3 and (measured["comparison_teams"] >= 5).all()
        assert "compared with" in measured["summary"].iloc[0].lower()
        assert list(overview["effect"])[-1] == "not yet measurable"  # the planned one

        organisation = unit_drivers(session=session, viewer=SYSTEM_VIEWER, resamples=200)
        assert organisation.released and int(organisation.people or 0) >= DRIVER_MIN_PEOPLE
        directorates = session.exec(select(Unit.id).where(Unit.kind == "directorate")).all()
        large = [
            unit_drivers(session=session, viewer=SYSTEM_VIEWER, unit_id=u, resamples=100)
            for u in directorates
        ]
        assert any(found.released for found in large)
        team = session.exec(select(Unit.id).where(Unit.kind == "team")).first()
        assert not unit_drivers(session=session, viewer=SYSTEM_VIEWER, unit_id=team).released
