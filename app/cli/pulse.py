"""Pulse commands: import historical responses, reorder PostgreSQL storage for anonymity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import DatabaseUrlOption, cli, fail, load_settings, open_engine, read_upload
from surveys.import_responses import ResponseImportError, import_responses_file
from surveys.instruments import load_instruments
from surveys.submit import scramble_storage_order


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
    """PostgreSQL: rewrite the pulse tables in random-key order so storage order cannot link
    responses to receipts (schedule weekly, off hours; it locks the tables while it runs)."""
    settings = load_settings(database_url)
    engine = open_engine(settings)
    if engine.dialect.name != "postgresql":
        typer.echo("Nothing to do: SQLite rows already get random rowids when written.")
        return
    with engine.begin() as connection:
        scramble_storage_order(connection)
    typer.echo("Pulse tables rewritten in random-key order.")
