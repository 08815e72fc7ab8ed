"""Every command answers a database it cannot use in one line, never a traceback or SQL; the global
``--debug`` shows the traceback. Also the one-line descriptions of driver errors themselves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from typer.testing import CliRunner

from app.cli import cli
from app.settings import PROJECT_ROOT
from models.faults import NOT_INITIALISED, describe_fault, is_transient

runner = CliRunner()
UNREACHABLE = "postgresql+psycopg://nobody:secret@127.0.0.1:1/wellbeing"


def _commands(tmp_path: Path) -> list[list[str]]:
    org = tmp_path / "org.csv"
    org.write_text("type,code,name,parent,roles\nunit,ORG,Council,,\n")
    responses = tmp_path / "responses.csv"
    responses.write_text("team,period,who5_1,who5_2,who5_3,who5_4,who5_5\nT1,2025-W40,1,1,1,1,1\n")
    return [
        ["export-org", "-"],
        ["import-org", str(org)],
        ["import-responses", str(responses), "--instrument", "who5"],
        ["seed-demo", "--teams", "5", "--weeks", "2"],
        ["pulse-reorder"],
        ["strain"],
        ["export", "aggregates", "--level", "team"],
        ["export", "aggregates", "--level", "organisation", "--format", "json"],
        ["export", "outcomes"],
    ]


def _assert_one_clean_line(output: str, expected: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert expected in lines[0]
    for leak in ("Traceback", "[SQL", "SELECT", "secret", "parameters"):
        assert leak not in output


def test_every_command_on_a_database_never_initialised(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    for command in _commands(tmp_path):
        result = runner.invoke(cli, [*command, "--database-url", url])
        assert result.exit_code == 1, (command, result.output)
        _assert_one_clean_line(result.output, NOT_INITIALISED)


def test_every_command_on_an_unreachable_server(tmp_path: Path) -> None:
    for command in _commands(tmp_path):
        result = runner.invoke(cli, [*command, "--database-url", UNREACHABLE])
        assert result.exit_code == 1, (command, result.output)
        _assert_one_clean_line(result.output, "cannot reach the database at 127.0.0.1:1")


def test_init_db_on_an_unreachable_server_says_so_in_one_line() -> None:
    result = runner.invoke(cli, ["init-db", "--database-url", UNREACHABLE])
    assert result.exit_code == 1
    assert "cannot reach the database at 127.0.0.1:1" in result.output
    assert "Traceback" not in result.output and "secret" not in result.output


def test_debug_shows_the_traceback() -> None:
    result = runner.invoke(
        cli, ["--debug", "export", "aggregates", "--level", "team", "--database-url", UNREACHABLE]
    )
    assert result.exit_code == 1
    assert "Traceback" in result.output


def test_a_table_dropped_after_the_check_is_still_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'half.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE unit (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    result = runner.invoke(cli, ["export", "outcomes", "--database-url", url])
    assert result.exit_code == 1
    _assert_one_clean_line(result.output, "run `wellbeing init-db`")


def _sqlite_error(sql: str, tmp_path: Path) -> SQLAlchemyError:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as connection:
            connection.execute(text(sql), {"value": "private value"})
    except SQLAlchemyError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError("expected an error")


def test_driver_errors_are_described_without_sql_or_parameters(tmp_path: Path) -> None:
    error = _sqlite_error("SELECT * FROM missing WHERE x = :value", tmp_path)
    assert "[SQL" in str(error)  # what used to be printed
    assert describe_fault(error, "sqlite:///x.db") == NOT_INITIALISED
    other = _sqlite_error("SELECT nonsense(:value)", tmp_path)
    described = describe_fault(other, "sqlite:///x.db")
    assert "private value" not in described and "SELECT" not in described


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        ("database is locked", True),
        ("server closed the connection unexpectedly", True),
        ("no such table: unit", False),
        ("UNIQUE constraint failed: receipt.id", False),
    ],
)
def test_what_is_worth_trying_again(message: str, transient: bool) -> None:
    error = OperationalError("INSERT ...", {"p": 1}, Exception(message))
    assert is_transient(error) is transient


def test_export_takes_calendar_labels_only_and_walks_only_released_periods(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(cli, ["init-db", "--database-url", url]).exit_code == 0
    result = runner.invoke(
        cli, ["export", "aggregates", "--level", "team", "--to", "9999-W52", "--database-url", url]
    )
    assert result.exit_code == 1 and "not a week of the release calendar" in result.output
    # A far-future label is a label like any other: it selects released periods, of which there
    # are none, so nothing is walked up to it.
    result = runner.invoke(
        cli,
        ["export", "aggregates", "--level", "team", "--to", "2999-W01", "--format", "json"]
        + ["--database-url", url],
    )
    assert result.exit_code == 0, result.output
    assert '"records": []' in result.stdout


def test_engine_errors_never_carry_the_parameters(tmp_path: Path) -> None:
    from models.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM missing WHERE x = :value"), {"value": "Jo Bloggs"})
    except SQLAlchemyError as error:
        assert "Jo Bloggs" not in str(error)
    else:
        raise AssertionError("expected an error")
    finally:
        engine.dispose()


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """``wellbeing ... | head``: the command stops quietly when its reader closes the pipe."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "demo-plan",
            "--format",
            "json",
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command has written anything: its first write breaks
    assert process.wait(timeout=120) == 0
    error = process.stderr.read().decode()
    assert "Error" not in error and "BrokenPipe" not in error, error
