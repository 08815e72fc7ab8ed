"""CI smoke test of ``wellbeing bench`` at a small size: every figure is reported (a number, or
null with the reason), nothing sent by the concurrent submitters is lost, and the command refuses a
database that holds other data. No timing assertions: speed is what the command itself reports."""

from __future__ import annotations

import json
from numbers import Real

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.bench import run_benchmark
from app.bench_org import BenchError, BenchPlan, expected_responses
from app.bench_submit import SUBMIT_BURSTS, SUBMITTERS
from app.cli import cli
from models.db import make_engine, write_session
from models.migrate import upgrade_to_head
from models.org import Unit

KEY = b"smoke-test-participation-key"
FIGURES = (
    "generate_and_load_seconds",
    "bare_group_by_seconds",
    "maintained_group_by_seconds",
    "hr_overview_seconds",
    "hr_overview_to_group_by_ratio",
    "team_dashboard_seconds",
    "team_dashboard_as_page_seconds",
    "team_dashboard_as_page_cold_seconds",
    "release_seconds",
    "strain_seconds",
    "submit_p50_ms",
    "submit_p95_ms",
    "submit_first_burst_p95_ms",
    "submit_reference_p95_ms",
    "peak_rss_mb_after_load",
    "peak_rss_mb",
)
COUNTS = ("responses", "submit_sent", "submit_stored", "submit_errors", "bare_group_by_rows")


def _check_report(report: dict, plan: BenchPlan) -> None:
    for key in FIGURES:
        assert key in report, key
        value = report[key]
        if value is None:
            assert report["unavailable"].get(key), f"{key} is null without a reason"
        else:
            assert isinstance(value, Real) and value >= 0, (key, value)
    # every area has landed: only the build time of a reused build may be missing
    assert set(report["unavailable"]) <= {"generate_and_load_seconds"}, report["unavailable"]
    for key in COUNTS:
        assert isinstance(report[key], int), key
    # about 4% do not answer in a given week; the build must hold the rest, no more
    assert 0.9 * expected_responses(plan) <= report["responses"] <= expected_responses(plan)
    # a warm-up burst, the timed bursts and the paced rounds
    assert report["submit_sent"] == (1 + 2 * SUBMIT_BURSTS) * SUBMITTERS
    assert report["submit_stored"] == report["submit_sent"]
    assert report["submit_errors"] == 0, report["submit_error_examples"]
    # the reference bursts (the same submitters' path with the SQL left out) wrote nothing
    assert report["submit_reference_stored"] == 0
    assert report["submit_reference_errors"] == 0
    for prefix in ("submit", "submit_paced", "submit_reference"):  # median p95 and its rounds
        rounds = report[f"{prefix}_p95_ms_each_round"]
        assert len(rounds) == SUBMIT_BURSTS and all(isinstance(p95, Real) for p95 in rounds)
        assert report[f"{prefix}_p95_ms"] == round(sorted(rounds)[len(rounds) // 2], 1)
    # the maintained aggregates give the same groups as the bare GROUP BY over every response
    assert report["maintained_group_by_rows"] == report["bare_group_by_rows"] > 0


def test_benchmark_at_ten_thousand_responses_reports_every_figure(engine: Engine) -> None:
    plan = BenchPlan.for_responses(10_000)
    report = run_benchmark(engine, plan, KEY, repeats=1)
    assert report["backend"] == engine.dialect.name
    assert report["reused_existing_build"] is False
    _check_report(report, plan)


def test_cli_prints_json_and_reuses_a_build_of_the_same_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    runner = CliRunner()
    args = ["bench", "--responses", "2000", "--database-url", url, "--repeats", "1", "--format", "json"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["reused_existing_build"] is False
    _check_report(report, BenchPlan.for_responses(2000))
    assert "building [" in first.stderr  # the progress bar goes to stderr, not into the JSON

    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    assert second["reused_existing_build"] is True
    assert second["generate_and_load_seconds"] is None
    assert "reused" in second["unavailable"]["generate_and_load_seconds"]
    assert second["responses"] == report["responses"]  # the measured weeks are unchanged by reruns


def test_cli_refuses_a_database_that_holds_other_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'real.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with write_session(engine) as session:
        session.add(Unit(code="real-council", name="A real council", kind="organisation"))
    result = CliRunner().invoke(cli, ["bench", "--responses", "2000", "--database-url", url])
    assert result.exit_code == 1
    assert "already holds other data" in result.stderr
    with engine.connect() as connection:
        units = connection.exec_driver_sql("SELECT code FROM unit").scalars().all()
    engine.dispose()
    assert units == ["real-council"]


def test_fewer_people_per_team_make_fewer_responses_for_the_same_teams_and_weeks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What memory and the dashboards' timings should not depend on is shown by holding teams x
    weeks and changing only the responses (docs/PERFORMANCE.md)."""
    assert BenchPlan.for_responses(312_000, 6).teams == BenchPlan.for_responses(1_040_000).teams == 1000
    assert BenchPlan.for_responses(312_000, 6).default_file_name == "bench-1000-teams-6-people.db"
    assert BenchPlan.for_responses(1_040_000).default_file_name == "bench-1000-teams.db"
    with pytest.raises(BenchError, match="more than 4"):
        BenchPlan.for_responses(2_000, 4)  # every team would be as small as the pooled ones

    url = f"sqlite:///{tmp_path / 'bench.db'}"
    args = ["bench", "--responses", "2000", "--people-per-team", "6", "--database-url", url]
    result = CliRunner().invoke(cli, [*args, "--repeats", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    plan = BenchPlan.for_responses(2000, 6)
    assert (report["teams"], report["people_per_team"]) == (plan.teams, 6) == (6, 6)
    _check_report(report, plan)
