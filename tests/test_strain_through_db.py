"""``strain-evaluate --through-database`` scores what users see: the council is seeded into a
SQLite file as ``seed-demo`` does, and the flags it scores are the ones ``wellbeing strain``
prints from that file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.cli.strain_through_db import evaluate_seed_through_database, seeded_database
from surveys.demo import plan_demo

pytestmark = pytest.mark.slow

SEED, TEAMS, WEEKS, UNTIL = 7, 24, 20, "2026-W48"


def test_the_scored_flags_are_the_ones_wellbeing_strain_prints(tmp_path: Path) -> None:
    run = evaluate_seed_through_database(tmp_path, SEED, TEAMS, WEEKS, UNTIL)
    url = seeded_database(tmp_path, seed=SEED, teams=TEAMS, weeks=WEEKS, until=UNTIL, no_strain=False)
    assert len(list(tmp_path.glob("*.db"))) == 1  # the file is reused, not seeded twice
    result = CliRunner().invoke(cli, ["strain", "--database-url", url, "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == TEAMS
    printed = sorted(r["team"] for r in records if r["flagged"])
    assert printed == run["flagged"]
    assessed = [r for r in records if r["cluster"] != "not assessed"]
    assert len(assessed) == run["assessed"]
    plan = plan_demo(SEED, TEAMS)
    assert set(run["planted"]) == {t.code for t in plan.teams if plan.plant_of(t.code).kind != "none"}
    caught, planted = run["planted_flagged"]
    assert planted == sum(plan.plant_of(t.code).planted for t in plan.teams)
    assert caught == len(set(printed) & set(plan.strained_team_codes))
