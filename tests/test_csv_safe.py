"""Spreadsheet-safe CSV: no cell a user typed opens as a formula in Excel, in any export, and
``export-org`` -> ``import-org`` stays an exact round trip (both backends where data is involved)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_support import small_team_org
from typer.testing import CliRunner

from analytics.objectives import add_key_result, create_objective, override_status
from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from app.cli import cli
from models.access import load_viewer
from models.csv_safe import escape_cell, frame_to_csv, unescape_cell, write_rows
from models.db import read_session, write_session
from models.org import Person, RoleGrant, Unit
from models.org_csv import export_org, import_org

runner = CliRunner()
FORMULA_STARTS = ("=", "+", "-", "@", "|", "%", "\t", "\r")
NUMBER = re.compile(r"^-?[0-9,.]+$")
HOSTILE = [
    '=HYPERLINK("http://evil.test","Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "|pipe",
    "%0A",
    "\t=tabbed",
    "'=already quoted",
    "''",
    "=a|b\\|c",
]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_safe(text: str) -> None:
    for cell in _cells(text):
        assert not cell.startswith(FORMULA_STARTS) or NUMBER.match(cell), cell


@given(st.text())
def test_escape_is_exactly_undone_and_never_leaves_a_formula(text: str) -> None:
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert not escaped.startswith(FORMULA_STARTS) or NUMBER.match(escaped)


def test_numbers_and_plain_text_are_written_unchanged() -> None:
    for text in ("-1.5", "-12", "5-9", "Repairs", "", "O'Brien"):
        assert escape_cell(text) == text
    frame = pd.DataFrame({"name": ["=1+1", "ok"], "mean": [-1.25, 2.0], "n": [5, None]})
    assert frame_to_csv(frame) == "name,mean,n\n'=1+1,-1.25,5.0\nok,2.0,\n"
    assert write_rows(["a"], [["@x"], [3]]) == "a\n'@x\n3\n"
    typed = pd.DataFrame(
        {
            "category": pd.Categorical(["=x", None]),
            "string": pd.array(["+y", None], dtype="string"),
            "flag": [True, False],
        }
    )
    assert frame_to_csv(typed) == "category,string,flag\n'=x,'+y,True\n,,False\n"


def _hostile_org(session: Session) -> None:
    root = Unit(code="ORG", name=HOSTILE[0], kind="organisation")
    session.add(root)
    session.flush()
    for index, name in enumerate(HOSTILE[1:], start=1):
        team = Unit(code=f"T{index}", name=name, kind="team", parent_id=root.id)
        session.add(team)
        session.flush()
        session.add(Person(email=f"-{index}+x@council.test", display_name=name, team_id=team.id))


def test_export_org_is_safe_and_imports_back_exactly(engine: Engine) -> None:
    with write_session(engine) as session:
        _hostile_org(session)
    with read_session(engine) as session:
        first = export_org(session)
        before = sorted((u.code, u.name) for u in session.exec(select(Unit)))
        people = sorted((p.email, p.display_name) for p in session.exec(select(Person)))
    _assert_safe(first)
    with write_session(engine) as session:
        summary = import_org(session, first, actor="t")
    assert (summary.units_updated, summary.people_updated) == (0, 0)
    with read_session(engine) as session:
        assert export_org(session) == first
        assert sorted((u.code, u.name) for u in session.exec(select(Unit))) == before
        assert sorted((p.email, p.display_name) for p in session.exec(select(Person))) == people


def test_every_aggregates_level_is_safe(engine: Engine, db_url: str) -> None:
    with Session(engine) as session:
        small_team_org(session, c_per_week=1)
        for index, unit in enumerate(session.exec(select(Unit)).all()):
            unit.name = HOSTILE[index % len(HOSTILE)]
            session.add(unit)
        session.commit()
    release_due(
        engine,
        now=datetime(2026, 2, 11, 12, tzinfo=UTC),
        rules=PrivacyRules(),
        schedule=ReleaseSchedule(),
    )
    for level in ("team", "unit", "organisation"):
        for period in ("week", "month"):
            result = runner.invoke(
                cli,
                ["export", "aggregates", "--level", level, "--period", period, "--database-url", db_url],
            )
            assert result.exit_code == 0, result.stderr
            assert "unit_name" in result.stdout.splitlines()[0]  # the columns are unchanged
            _assert_safe(result.stdout)
            frame = pd.read_csv(io.StringIO(result.stdout))
            assert len(frame) > 0


def test_outcomes_export_is_safe(engine: Engine, db_url: str) -> None:
    today = date.today()
    with write_session(engine) as session:
        root = Unit(code="ORG", name="=Council", kind="organisation")
        session.add(root)
        session.flush()
        team = Unit(code="T1", name="+Repairs", kind="team", parent_id=root.id)
        session.add(team)
        session.flush()
        person = Person(email="m@x.gov.uk", display_name="@M", team_id=team.id)
        session.add(person)
        session.flush()
        session.add(RoleGrant(person_id=person.id, role="manager", unit_id=team.id))
        team_id = team.id
    with write_session(engine) as session:
        viewer = load_viewer(session, "m@x.gov.uk")
        objective = create_objective(
            session=session,
            viewer=viewer,
            title=HOSTILE[0],
            starts_on=today - timedelta(days=10),
            ends_on=today + timedelta(days=50),
            team_ids=[team_id],
        )
        add_key_result(
            session=session,
            viewer=viewer,
            objective_id=objective.id,
            metric_name="-1+cmd|' /C calc'!A0",
            baseline=-5,
            target=80,
            direction="increase",
            due_date=today + timedelta(days=50),
        )
        override_status(
            session=session,
            viewer=viewer,
            objective_id=objective.id,
            status_name="at_risk",
            reason="@SUM(1+1)",
        )
    result = runner.invoke(cli, ["export", "outcomes", "--format", "csv", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    _assert_safe(result.stdout)
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert frame.loc[0, "baseline"] == -5  # numbers stay numbers
    assert frame.loc[0, "objective"].startswith("'=HYPERLINK")
