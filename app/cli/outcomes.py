"""``wellbeing export outcomes``: every objective and key result with progress and status."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from analytics.objectives import export_document, export_rows, outcomes_export
from app.cli.common import (
    DatabaseUrlOption,
    ExportFormat,
    export_cli,
    fail,
    load_settings,
    open_engine,
)
from models.csv_safe import frame_to_csv
from models.db import read_session


@export_cli.command("outcomes")
def export_outcomes(
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or json")] = ExportFormat.csv,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file instead of standard output")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD); default today")
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Export every objective, key result, latest check-in, progress, expected progress and status.

    CSV has one row per key result; JSON nests key results under their objective and includes the
    explanation of each status.
    """
    try:
        today = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date such as 2026-03-31")
    engine = open_engine(load_settings(database_url))
    try:
        with read_session(engine) as session:
            views = outcomes_export(session=session, today=today)
    finally:
        engine.dispose()
    if format == ExportFormat.csv:
        text = frame_to_csv(export_rows(views))
    else:
        text = json.dumps(export_document(views, today), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error}")
    typer.echo(f"Wrote {len(views)} objectives to {output}.", err=True)
