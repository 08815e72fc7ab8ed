"""Drivers from the database: released quarters only, groups of at least 30 people, nothing per
person, a planted driver first (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from test_gate_support import HR, add_people, add_scores, add_unit, weeks
from typer.testing import CliRunner

from analytics.driver_release import (
    DRIVER_MIN_PEOPLE,
    HOME_SHARE,
    HSE_DRIVERS,
    priority,
    team_priorities,
    unit_drivers,
)
from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from app.cli import cli
from models.access import AccessDenied, Viewer
from models.pulse import PulseResponse

AFTER_Q1 = datetime(2026, 4, 3, 12, tzinfo=UTC)
RESAMPLES = 200


def _council(engine: Engine, *, release: bool = True) -> dict[str, int]:
    """Directorate A: four teams of 12 (48 people); directorate B: two teams of 10 (20 people).
    Wellbeing follows manager support; three people a week work at home, everyone else never."""
    rng = np.random.default_rng(7)
    with Session(engine) as session:
        org = add_unit(session, "org", "organisation", None, "Council")
        ids = {"org": org}
        ids["dir-a"] = add_unit(session, "dir-a", "directorate", org, "Adult Care")
        ids["dir-b"] = add_unit(session, "dir-b", "directorate", org, "Bins")
        teams = [("a1", "dir-a", 12), ("a2", "dir-a", 12), ("a3", "dir-a", 12), ("a4", "dir-a", 12)]
        teams += [("b1", "dir-b", 10), ("b2", "dir-b", 10)]
        for code, parent, size in teams:
            ids[code] = add_unit(session, code, "team", ids[parent])
            add_people(session, ids[code], size, code)
            for week in weeks(1, 13):
                rows = []
                for person in range(size):
                    drivers = {name: float(np.clip(rng.normal(3.4, 0.7), 1, 5)) for name in HSE_DRIVERS}
                    support = drivers["manager_support"]
                    wellbeing = float(np.clip(60 + 14 * (support - 3.4) + rng.normal(0, 12), 0, 100))
                    home = 2 if person < 3 and code == "a1" else 0
                    rows.append({"wellbeing": wellbeing, **drivers, "home": home})
                for construct in ("wellbeing", *HSE_DRIVERS):
                    add_scores(
                        session,
                        ids[code],
                        week,
                        [r[construct] for r in rows],
                        construct=construct,
                        count_responses=construct == "wellbeing",
                    )
                for r in rows:
                    session.add(
                        PulseResponse(
                            id=uuid.uuid4().hex,
                            team_id=ids[code],
                            week=week,
                            instrument_version="test",
                            days_home=r["home"],
                            days_office=5 - r["home"],
                            days_site=0,
                            work_pattern="hybrid" if r["home"] else "office",
                            answers={},
                            scores={k: v for k, v in r.items() if k != "home"},
                        )
                    )
        session.commit()
    if release:
        release_due(engine, now=AFTER_Q1, rules=PrivacyRules(), schedule=ReleaseSchedule())
    return ids


def test_the_organisation_sees_the_planted_driver_first_with_its_scores(engine: Engine) -> None:
    _council(engine)
    with Session(engine) as session:
        found = unit_drivers(session=session, viewer=HR, resamples=RESAMPLES)
    assert found.released and found.period == "2026-Q1" and found.people == "68"
    assert found.result is not None and found.result.drivers[0].driver == "manager_support"
    assert found.result.groups == 6  # the bootstrap resamples whole teams
    assert HOME_SHARE in found.withheld  # three people a week differ: it would describe them
    records = found.records()
    assert {r["driver"] for r in records} == set(HSE_DRIVERS)
    assert all(r["score"] is not None for r in records)
    assert priority(records)[0]["priority"] >= priority(records)[-1]["priority"]


def test_nothing_is_released_below_the_minimum_group_or_before_a_quarter_is_released(
    engine: Engine,
) -> None:
    ids = _council(engine, release=False)
    with Session(engine) as session:
        early = unit_drivers(session=session, viewer=HR, resamples=RESAMPLES)
    assert not early.released and "no released quarter" in (early.reason or "")
    release_due(engine, now=AFTER_Q1, rules=PrivacyRules(), schedule=ReleaseSchedule())
    with Session(engine) as session:
        large = unit_drivers(session=session, viewer=HR, unit_id=ids["dir-a"], resamples=RESAMPLES)
        small = unit_drivers(session=session, viewer=HR, unit_id=ids["dir-b"], resamples=RESAMPLES)
        team = unit_drivers(session=session, viewer=HR, unit_id=ids["a1"], resamples=RESAMPLES)
        month = unit_drivers(session=session, viewer=HR, period="2026-01", resamples=RESAMPLES)
    assert not month.released and "not a released quarter (released: 2026-Q1)" in (month.reason or "")
    assert large.released and large.people == "48"
    for withheld in (small, team):
        assert not withheld.released
        assert withheld.records() == []
        assert withheld.to_dict()["drivers"] == []
        assert f"at least {DRIVER_MIN_PEOPLE} people" in (withheld.reason or "")


def test_a_team_member_cannot_read_another_units_drivers(engine: Engine) -> None:
    ids = _council(engine)
    member = Viewer(
        email="s@x", display_name="S", person_id=None, team_id=ids["b1"], roles=frozenset({"staff"})
    )
    with Session(engine) as session, pytest.raises(AccessDenied):
        unit_drivers(session=session, viewer=member, unit_id=ids["dir-a"], resamples=RESAMPLES)


def test_cli_reads_the_organisations_drivers_through_the_gate(engine: Engine, db_url: str) -> None:
    _council(engine)
    result = CliRunner().invoke(
        cli, ["drivers", "--format", "json", "--resamples", "100", "--database-url", db_url]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["outcome"] == "wellbeing" and payload["n"] == 68
    assert payload["drivers"][0]["driver"] == "manager_support"
    assert set(payload["drivers"][0]) == {"driver", "importance", "low", "high"}
    assert sum(d["importance"] for d in payload["drivers"]) == pytest.approx(payload["r2"], abs=1e-3)
    assert payload["min_people"] == DRIVER_MIN_PEOPLE


def test_a_team_sees_the_nearest_large_units_drivers_beside_its_own_scores(engine: Engine) -> None:
    ids = _council(engine)
    manager = Viewer(
        email="m@x",
        display_name="M",
        person_id=None,
        team_id=None,
        roles=frozenset({"manager"}),
        managed_unit_ids=frozenset({ids["a1"]}),
    )
    with Session(engine) as session:
        found = team_priorities(session=session, viewer=manager, team_id=ids["a1"], resamples=100)
        own = unit_drivers(session=session, viewer=HR, unit_id=ids["a1"], resamples=100)
        directorate = unit_drivers(session=session, viewer=HR, unit_id=ids["dir-a"], resamples=100)
        with pytest.raises(AccessDenied):
            team_priorities(session=session, viewer=manager, team_id=ids["b1"])
    assert found.unit_id == ids["dir-a"] and found.released
    assert found.scores == own.scores != directorate.scores  # the team's released scores
    assert [d.driver for d in found.result.drivers] == [d.driver for d in directorate.result.drivers]
