"""``wellbeing export outcomes``: CSV and JSON load back with every objective and key result."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from analytics.objectives import add_key_result, create_objective, override_status, record_check_in
from app.cli import cli
from models.access import load_viewer
from models.db import write_session
from models.org import Person, RoleGrant, Unit

runner = CliRunner()
TODAY = date.today()
START = TODAY - timedelta(days=30)
END = START + timedelta(days=60)


def _seed(engine: Engine) -> dict[str, int]:
    with write_session(engine) as session:
        root = Unit(code="ORG", name="Council", kind="organisation")
        session.add(root)
        session.flush()
        team = Unit(code="T1", name="Repairs", kind="team", parent_id=root.id)
        session.add(team)
        session.flush()
        person = Person(email="m@x.gov.uk", display_name="M", team_id=team.id)
        session.add(person)
        session.flush()
        session.add(RoleGrant(person_id=person.id, role="manager", unit_id=team.id))
        team_id = team.id
    with write_session(engine) as session:
        viewer = load_viewer(session, "m@x.gov.uk")
        first = create_objective(
            session=session,
            viewer=viewer,
            title="Faster repairs",
            starts_on=START,
            ends_on=END,
            team_ids=[team_id],
        )
        second = create_objective(
            session=session,
            viewer=viewer,
            title="No key results yet",
            starts_on=START,
            ends_on=END,
            team_ids=[team_id],
        )
        up = add_key_result(
            session=session,
            viewer=viewer,
            objective_id=first.id,
            metric_name="Done in 7 days",
            baseline=60,
            target=80,
            direction="increase",
            due_date=END,
        )
        down = add_key_result(
            session=session,
            viewer=viewer,
            objective_id=first.id,
            metric_name="Backlog",
            baseline=120,
            target=80,
            direction="decrease",
            due_date=END,
        )
        record_check_in(
            session=session, viewer=viewer, key_result_id=up.id, value=75, confidence=9, checked_on=TODAY
        )
        record_check_in(
            session=session,
            viewer=viewer,
            key_result_id=down.id,
            value=100,
            confidence=8,
            checked_on=TODAY,
        )
        override_status(
            session=session,
            viewer=viewer,
            objective_id=second.id,
            status_name="at_risk",
            reason="Not planned",
        )
        return {"first": first.id, "second": second.id, "up": up.id, "down": down.id}


def test_csv_export_loads_back_with_progress_and_status(engine: Engine, db_url: str) -> None:
    ids = _seed(engine)
    result = runner.invoke(cli, ["export", "outcomes", "--format", "csv", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert sorted(frame["objective_id"]) == sorted([ids["first"], ids["first"], ids["second"]])
    rows = frame.set_index("key_result_id", drop=False)
    up, down = rows.loc[ids["up"]], rows.loc[ids["down"]]
    assert up["latest_value"] == 75 and up["latest_confidence"] == 9
    assert up["latest_checked_on"] == TODAY.isoformat()
    assert up["key_result_progress"] == pytest.approx(0.75)
    assert down["key_result_progress"] == pytest.approx(0.5)
    assert up["objective_progress"] == pytest.approx(0.625)
    assert up["objective_expected"] == pytest.approx(0.5)
    assert up["objective_status"] == "on_track"
    empty = frame[frame["objective_id"] == ids["second"]].iloc[0]
    assert empty["objective_status"] == "at_risk" and empty["override_reason"] == "Not planned"
    assert pd.isna(empty["key_result_id"])


def test_json_export_to_a_file_nests_key_results(engine: Engine, db_url: str, tmp_path: Path) -> None:
    ids = _seed(engine)
    target = tmp_path / "outcomes.json"
    result = runner.invoke(
        cli,
        ["export", "outcomes", "--format", "json", "--output", str(target), "--database-url", db_url],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    assert document["generated_on"] == TODAY.isoformat()
    objectives = {item["id"]: item for item in document["objectives"]}
    assert set(objectives) == {ids["first"], ids["second"]}
    first = objectives[ids["first"]]
    assert first["progress"] == pytest.approx(0.625) and first["status"] == "on_track"
    assert "62%" in first["status_explanation"] or "63%" in first["status_explanation"]
    krs = {kr["id"]: kr for kr in first["key_results"]}
    assert krs[ids["down"]]["direction"] == "decrease" and krs[ids["down"]]["progress"] == pytest.approx(
        0.5
    )
    assert krs[ids["up"]]["latest_confidence"] == 9 and krs[ids["up"]]["status"] == "on_track"
    assert objectives[ids["second"]]["key_results"] == []


def test_bad_as_of_date_fails_clearly(sqlite_engine: Engine) -> None:
    result = runner.invoke(
        cli, ["export", "outcomes", "--as-of", "31/03/2026", "--database-url", str(sqlite_engine.url)]
    )
    assert result.exit_code != 0
    assert "is not a date" in result.output
