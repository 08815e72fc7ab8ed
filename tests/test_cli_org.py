"""The ``wellbeing`` set-up commands: init-db, import-org and export-org, on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel, func, select
from typer.testing import CliRunner

from app.cli import cli
from models.db import make_engine, read_session
from models.org import Person, Unit

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_org.csv"
runner = CliRunner()


def _empty_database(url: str) -> None:
    """No tables at all, so ``init-db`` migrates from nothing (the PostgreSQL database is shared)."""
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with read_session(engine) as session:
        counts = (
            session.exec(select(func.count()).select_from(Unit)).one(),
            session.exec(select(func.count()).select_from(Person)).one(),
        )
    engine.dispose()
    return counts


def test_init_import_export_round_trip(db_url: str, tmp_path: Path) -> None:
    _empty_database(db_url)
    result = runner.invoke(cli, ["init-db", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["import-org", str(SAMPLE), "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "8 created" in result.output and "9 created" in result.output
    exported = tmp_path / "out.csv"
    result = runner.invoke(cli, ["export-org", str(exported), "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert sorted(exported.read_text().splitlines()) == sorted(SAMPLE.read_text().splitlines())


def test_bad_import_exits_non_zero_lists_rows_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    _empty_database(db_url)
    assert runner.invoke(cli, ["init-db", "--database-url", db_url]).exit_code == 0
    assert runner.invoke(cli, ["import-org", str(SAMPLE), "--database-url", db_url]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "type,code,name,parent,roles\n"
        "unit,NEW-TEAM,New team,RES-PEOPLE,\n"
        "person,new.person@westmere.gov.uk,New Person,NEW-TEAM,staff;chief\n"
        "person,other@westmere.gov.uk,Other,NOPE,staff\n"
    )
    result = runner.invoke(cli, ["import-org", str(bad), "--database-url", db_url])
    assert result.exit_code != 0
    assert "line 3: unknown role 'chief'" in result.output
    assert "line 4: unknown team 'NOPE'" in result.output
    assert "nothing was changed" in result.output
    assert _counts(db_url) == (8, 9)


def test_import_of_a_missing_file_fails_clearly(tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["import-org", str(tmp_path / "nope.csv"), "--database-url", f"sqlite:///{tmp_path}/x.db"]
    )
    assert result.exit_code != 0
    assert "cannot read" in result.output
