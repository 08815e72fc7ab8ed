"""``wellbeing export aggregates``: only gated figures, the documented columns, metadata, audit."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_support import small_team_org
from typer.testing import CliRunner

from analytics.export import RECORD_COLUMNS
from app.cli.common import cli
from models.outcomes import AuditEntry

BIN = Path(sys.executable).parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["export", "aggregates", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def small_org(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return small_team_org(session, c_per_week=1)


@pytest.mark.usefixtures("small_org")
def test_json_release_has_metadata_and_only_gated_records(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "teams.json"
    code, _, err = run(
        "--level",
        "team",
        "--format",
        "json",
        "--output",
        str(output),
        "--from",
        "2026-W02",
        "--to",
        "2026-W04",
        "--by",
        "window",
        "--database-url",
        db_url,
    )
    assert code == 0, err
    release = json.loads(output.read_text())
    metadata = release["metadata"]
    assert (metadata["period_start"], metadata["period_end"]) == ("2026-W02", "2026-W04")
    assert metadata["thresholds"] == {
        "org": {"min_group_size": 5, "min_comment_group_size": 10, "pooling_weeks": 4}
    }
    assert "generated_at" in metadata and "instrument_versions" in metadata
    records = release["records"]
    assert all(list(record) == list(RECORD_COLUMNS) for record in records)
    by_unit = {(r["unit"], r["period_start"]): r for r in records}
    big = by_unit[("team-big", "2026-W02")]
    assert not big["suppressed"] and big["n"] == 30 and big["mean"] == pytest.approx(60.0)
    assert big["period_end"] == "2026-W04"
    assert big["ci_low"] < 60 < big["ci_high"]
    # the 1-a-week team (3) is too small; the 4-person team (12) must then be hidden to protect
    # it, else directorate - big - four would reveal it
    one = by_unit[("team-three", "2026-W02")]
    four = by_unit[("team-four", "2026-W02")]
    assert one["suppressed"] and one["reason"] == "too few responses"
    assert four["suppressed"] and four["reason"] == "protects a neighbouring group"
    for record in (one, four):
        assert record["mean"] is None and record["ci_low"] is None and record["n"] is None
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "export_aggregates")).all()
    assert [entry.actor for entry in entries] == ["cli"]
    assert json.loads(entries[0].detail)["level"] == "team"


@pytest.mark.usefixtures("small_org")
def test_csv_loads_into_pandas_with_sidecar_metadata(db_url: str, tmp_path: Path) -> None:
    output = tmp_path / "units.csv"
    code, _, err = run(
        "--level", "unit", "--by", "window", "--output", str(output), "--database-url", db_url
    )
    assert code == 0, err
    frame = pd.read_csv(output)
    assert list(frame.columns) == list(RECORD_COLUMNS)
    assert set(frame["unit"]) == {"dir"} and set(frame["level"]) == {"directorate"}
    assert frame.loc[0, "n"] == 90  # 6 weeks x 15 responses in the directorate
    metadata = json.loads(Path(f"{output}.metadata.json").read_text())
    assert metadata["by"] == "window" and metadata["period_end"] == "2026-W06"


@pytest.mark.usefixtures("small_org")
def test_organisation_level_to_stdout(db_url: str) -> None:
    code, out, err = run("--level", "organisation", "--format", "csv", "--database-url", db_url)
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    assert set(frame["unit"]) == {"org"} and len(frame) == 6  # one record per week
    assert json.loads(err)["level"] == "organisation"


@pytest.mark.usefixtures("small_org")
def test_bad_options_get_a_clear_message(db_url: str) -> None:
    code, _, err = run("--level", "team", "--from", "2026-14", "--database-url", db_url)
    assert code == 1 and "not an ISO week" in err
    code, _, err = run(
        "--level", "team", "--from", "2026-W10", "--to", "2026-W01", "--database-url", db_url
    )
    assert code == 1 and "after" in err
    code, _, err = run("--level", "region", "--database-url", db_url)
    assert code != 0


@pytest.mark.slow
def test_demo_organisation_exports_load_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env_cmd = [str(BIN / "wellbeing")]
    for args in (["init-db"], ["seed-demo", "--seed", "2", "--teams", "8", "--weeks", "6"]):
        done = subprocess.run([*env_cmd, *args, "--database-url", url], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for level in ("team", "unit", "organisation"):
        target = tmp_path / f"{level}.json"
        code, _, err = run(
            "--level", level, "--format", "json", "--output", str(target), "--database-url", url
        )
        assert code == 0, err
        frame = pd.DataFrame(json.loads(target.read_text())["records"])
        assert list(frame.columns) == list(RECORD_COLUMNS) and len(frame) > 0
        released = frame[~frame["suppressed"]]
        assert released["mean"].notna().all() and released["n"].notna().all()
        assert frame[frame["suppressed"]]["mean"].isna().all()
        csv_target = tmp_path / f"{level}.csv"
        code, _, err = run("--level", level, "--output", str(csv_target), "--database-url", url)
        assert code == 0, err
        assert list(pd.read_csv(csv_target).columns) == list(RECORD_COLUMNS)


def test_record_columns_are_the_documented_open_data_columns() -> None:
    """The published format (issue 4, README): changing it breaks people's downstream loaders."""
    documented = "unit unit_name parent level period_start period_end construct mean ci_low ci_high n"
    assert RECORD_COLUMNS == (*documented.split(), "suppressed", "reason")
