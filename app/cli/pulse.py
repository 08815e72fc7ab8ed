"""Pulse commands: import historical responses; seal, back up and rewrite the pulse storage so
that nothing stored links an answer to its person (docs/PRIVACY_AT_REST.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import DatabaseUrlOption, cli, fail, load_settings, open_engine, read_upload
from models.at_rest import rewrite_all, seal
from models.backup import BackupError, backup
from surveys.import_responses import ResponseImportError, import_responses_file
from surveys.instruments import load_instruments


@cli.command("import-responses")
def import_responses_command(
    file: Annotated[
        Path, typer.Argument(help="CSV: team, period, one column per item id, optional days_*")
    ],
    instrument: Annotated[str, typer.Option("--instrument", help="Instrument id, e.g. who5, hse, ons4")],
    allow_repeat: Annotated[
        bool,
        typer.Option(
            "--allow-repeat", help="Import a file whose content was imported before (counts it twice)"
        ),
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Import anonymous responses from an earlier survey; any bad row refuses the whole file."""
    settings = load_settings(database_url)
    known = load_instruments()
    if instrument not in known:
        fail(f"unknown instrument {instrument!r}; choose one of {', '.join(sorted(known))}")
    data = read_upload(file)
    engine = open_engine(settings)
    try:
        summary = import_responses_file(
            engine, data, instrument=known[instrument], allow_repeat=allow_repeat
        )
    except ResponseImportError as error:
        fail(f"{file}: {error}")
    finally:
        engine.dispose()
    typer.echo(f"Imported {file}: {summary}.")


@cli.command("pulse-reorder")
def pulse_reorder_command(database_url: DatabaseUrlOption = None) -> None:
    """PostgreSQL: rewrite the pulse tables whole, into new files, so not even the free space of
    their pages keeps a row from before its seal (schedule weekly, off hours; it locks the tables
    while it runs)."""
    settings = load_settings(database_url)
    engine = open_engine(settings)
    if engine.dialect.name != "postgresql":
        typer.echo("Nothing to do on SQLite: sealing already zeroes what it rewrites.")
        return
    with engine.begin() as connection:
        rewrite_all(connection)
    typer.echo("Pulse tables rewritten in random-key order.")


@cli.command("seal")
def seal_command(database_url: DatabaseUrlOption = None) -> None:
    """Seal the pulse storage now: rewrite the weeks written since the last seal so no row order,
    row id, transaction id or log links an answer to its receipt (the server does this within a
    minute of submissions; run it from cron as a backstop)."""
    settings = load_settings(database_url)
    report = seal(open_engine(settings))
    typer.echo(
        f"Sealed {len(report.weeks)} week(s): {report.responses} responses, "
        f"{report.receipts} receipts rewritten."
    )
    if not report.complete:
        fail(
            "not complete: the write-ahead log is still in use by a reader (SQLite) or old row "
            "versions are still visible to an open transaction (PostgreSQL); run it again"
        )


@cli.command("backup")
def backup_command(
    output: Annotated[
        Path, typer.Argument(help="New file to write (SQLite database or pg_dump archive)")
    ],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Back up the database without anything that could link an answer to its person: SQLite
    VACUUM INTO a fresh file, PostgreSQL pg_dump (custom format) of a sealed snapshot."""
    settings = load_settings(database_url)
    try:
        backup(open_engine(settings), output)
    except BackupError as error:
        fail(str(error))
    typer.echo(f"Backup written to {output}.")
