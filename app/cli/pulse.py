"""Pulse commands: import historical responses, reorder PostgreSQL storage for anonymity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import DatabaseUrlOption, cli, fail, load_settings, open_engine
from models.db import write_session
from surveys.import_responses import ResponseImportError, import_responses
from surveys.instruments import load_instruments
from surveys.submit import scramble_storage_order


@cli.command("import-responses")
def import_responses_command(
    file: Annotated[
        Path, typer.Argument(help="CSV: team, period, one column per item id, optional days_*")
    ],
    instrument: Annotated[str, typer.Option("--instrument", help="Instrument id, e.g. who5, hse, ons4")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Import anonymous responses from an earlier survey; any bad row refuses the whole file."""
    settings = load_settings(database_url)
    known = load_instruments()
    if instrument not in known:
        fail(f"unknown instrument {instrument!r}; choose one of {', '.join(sorted(known))}")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {error}")
    engine = open_engine(settings)
    try:
        with write_session(engine) as session:
            summary = import_responses(session, text, instrument=known[instrument])
    except ResponseImportError as error:
        fail(f"{file}: {error}")
    except Exception as error:  # noqa: BLE001  (e.g. the database is not migrated)
        fail(f"import failed, nothing was changed: {error}")
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
