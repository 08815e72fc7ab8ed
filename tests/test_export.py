"""``wellbeing export aggregates``: only released figures of whole calendar periods, the documented
columns and metadata, clear refusals of anything else, and an audit entry (both backends)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_support import small_team_org
from typer.testing import CliRunner

from analytics.export import RECORD_COLUMNS
from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due
from app.cli import cli
from models.outcomes import AuditEntry

BIN = Path(sys.executable).parent
# small_team_org answers 2026-W01..W06; on Wednesday of week 7 all six weeks and January are out.
AFTER_WEEK_6 = datetime(2026, 2, 11, 12, tzinfo=UTC)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["export", "aggregates", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def small_org(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        org = small_team_org(session, c_per_week=1)
    release_due(engine, now=AFTER_WEEK_6, rules=PrivacyRules(), schedule=ReleaseSchedule())
    return org


@pytest.mark.usefixtures("small_org")
def test_json_release_has_metadata_and_only_released_records(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "teams.json"
    code, _, err = run(
        "--level", "team", "--period", "week", "--format", "json", "--output", str(output),
        "--from", "2026-W02", "--to", "2026-W04", "--database-url", db_url,
    )  # fmt: skip
    assert code == 0, err
    release = json.loads(output.read_text())
    metadata = release["metadata"]
    assert metadata["periods"] == ["2026-W02", "2026-W03", "2026-W04"]
    assert (metadata["period_start"], metadata["period_end"]) == ("2026-W02", "2026-W04")
    assert metadata["thresholds"] == {
        "org": {"min_group_size": 5, "min_comment_group_size": 10, "pooling_period": "month"}
    }
    records = release["records"]
    assert all(list(record) == list(RECORD_COLUMNS) for record in records)
    by_unit = {(r["unit"], r["period_start"]): r for r in records}
    big = by_unit[("team-big", "2026-W02")]
    # 10 answers a week from 12 people: 10 people behind it, mean 60 as a whole number
    assert not big["suppressed"] and big["n"] == "10" and big["mean"] == 60.0
    # the one-a-week team is too small; the four-person team is too small as well; so the
    # directorate minus the big team would be both of them: five people, which is enough.
    assert by_unit[("team-three", "2026-W02")]["reason"] == "too few people"
    assert by_unit[("team-four", "2026-W02")]["reason"] == "too few people"
    for record in records:
        if record["suppressed"]:
            assert record["mean"] is None and record["n"] is None
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "export_aggregates")).all()
    assert [entry.actor for entry in entries] == ["cli"]
    assert json.loads(entries[0].detail)["level"] == "team"


@pytest.mark.usefixtures("small_org")
def test_a_month_is_exported_as_its_whole_weeks(db_url: str, tmp_path: Path) -> None:
    output = tmp_path / "units.csv"
    code, _, err = run(
        "--level", "unit", "--period", "month", "--output", str(output), "--database-url", db_url
    )
    assert code == 0, err
    frame = pd.read_csv(output, dtype={"n": str})
    assert list(frame.columns) == list(RECORD_COLUMNS)
    # January 2026 is the five weeks whose Thursday falls in January: W01 (1 January) to W05.
    assert set(frame["period_start"]) == {"2026-W01"} and set(frame["period_end"]) == {"2026-W05"}
    assert set(frame["unit"]) == {"dir"}
    metadata = json.loads(Path(f"{output}.metadata.json").read_text())
    assert metadata["period"] == "month" and metadata["periods"] == ["2026-01"]


@pytest.mark.usefixtures("small_org")
def test_organisation_level_to_stdout(db_url: str) -> None:
    code, out, err = run("--level", "organisation", "--format", "csv", "--database-url", db_url)
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    assert set(frame["unit"]) == {"org"} and len(frame) == 6  # one record per released week
    assert json.loads(err)["level"] == "organisation"


@pytest.mark.usefixtures("small_org")
def test_nothing_but_whole_calendar_periods_is_accepted(db_url: str) -> None:
    refusals = [
        (("--period", "month", "--from", "2026-W10"), "not a month"),
        (("--period", "week", "--from", "2026-14"), "not a week"),
        (("--period", "week", "--from", "2026-W10", "--to", "2026-W01"), "after"),
        (("--period", "quarter", "--to", "2026-03"), "2026-Q1 (quarter)"),
        (("--by", "window"), "--period week|month|quarter|year"),
        (("--period", "fortnight"), ""),
    ]
    for options, message in refusals:
        code, _, err = run("--level", "team", *options, "--database-url", db_url)
        assert code != 0, options
        assert message in err, (options, err)
    code, _, err = run("--level", "region", "--database-url", db_url)
    assert code != 0


def test_an_open_or_unreleased_period_exports_nothing(engine: Engine, db_url: str) -> None:
    with Session(engine) as session:
        small_team_org(session)
    code, out, err = run("--level", "team", "--format", "json", "--database-url", db_url)
    assert code == 0, err
    assert json.loads(out)["records"] == []


@pytest.mark.slow
def test_demo_organisation_exports_load_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env_cmd = [str(BIN / "wellbeing")]
    for args in (["init-db"], ["seed-demo", "--seed", "2", "--teams", "8", "--weeks", "6"]):
        done = subprocess.run([*env_cmd, *args, "--database-url", url], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for level in ("team", "unit", "organisation"):
        for period in ("week", "month"):
            target = tmp_path / f"{level}-{period}.json"
            code, _, err = run(
                "--level", level, "--period", period, "--format", "json", "--output", str(target),
                "--database-url", url,
            )  # fmt: skip
            assert code == 0, err
            frame = pd.DataFrame(json.loads(target.read_text())["records"], columns=list(RECORD_COLUMNS))
            if period == "week":
                assert len(frame) > 0
            released = frame[~frame["suppressed"].astype(bool)]
            assert released["mean"].notna().all() and released["n"].notna().all()
            assert frame[frame["suppressed"].astype(bool)]["mean"].isna().all()


def test_record_columns_are_the_documented_open_data_columns() -> None:
    """The published format (README): changing it breaks people's downstream loaders. Intervals
    are gone: a small cell's own spread would help undo it."""
    documented = "unit unit_name parent level period_start period_end construct mean n"
    assert RECORD_COLUMNS == (*documented.split(), "suppressed", "reason")
