"""``wellbeing drivers``: what goes with an outcome, from a person-level CSV or from the database;
``wellbeing export actions``: every action with its measured effect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from sqlalchemy.exc import SQLAlchemyError

from analytics.driver_release import DRIVER_LABELS, unit_drivers
from analytics.drivers import DEFAULT_BOOTSTRAP, DEFAULT_SEED, DriverError, analyse_table
from analytics.privacy.rules import SYSTEM_VIEWER
from app.cli.common import (
    DatabaseUrlOption,
    ExportFormat,
    OutputFormat,
    cli,
    export_cli,
    fail,
    load_settings,
    open_engine,
)
from app.cli.numeric_csv import read_numeric_csv, to_number
from models.audit import record
from models.db import read_session, write_session


def read_person_table(path: Path) -> pd.DataFrame:
    """The CSV read as ``wellbeing strain --features`` reads its tables (``app.cli.numeric_csv``),
    every column whose values are all numbers (blanks and suppression markers aside) typed as
    numbers; a clear message when the file cannot be read."""
    try:
        table, decimal_comma = read_numeric_csv(path, id_column=False)
    except ValueError as error:
        fail(str(error))
    for column in table.columns:
        converted = to_number(table[column], decimal_comma=decimal_comma)
        if converted.notna().sum() == table[column].notna().sum():
            table[column] = converted
    return table


def _print_table(payload: dict) -> None:
    typer.echo(
        f"Outcome {payload['outcome']}: n = {payload['n']}, R² = {payload['r2']}, "
        f"method {payload.get('method', '')}, {payload.get('dropped', 0)} rows with blanks dropped"
    )
    for rank, row in enumerate(payload["drivers"], start=1):
        label = DRIVER_LABELS.get(row["driver"], row["driver"])
        typer.echo(
            f"  {rank}. {label:<24} {row['importance']:.4f}  (95% {row['low']:.4f} to {row['high']:.4f})"
        )
    for driver, why in (payload.get("withheld") or {}).items():
        typer.echo(f"  not released: {driver}: {why}")
    if payload.get("reason"):
        typer.echo(f"  nothing released: {payload['reason']}")


@cli.command("drivers")
def drivers_command(
    table: Annotated[
        Path | None,
        typer.Option("--table", help="Person-level CSV, one row a person (instead of the database)"),
    ] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="Outcome column (CSV; the database uses wellbeing)")
    ] = None,
    group: Annotated[
        str | None,
        typer.Option("--group", help="Group column: the bootstrap resamples whole groups"),
    ] = None,
    drivers: Annotated[
        str | None,
        typer.Option("--drivers", help="Comma-separated driver columns (default: every numeric one)"),
    ] = None,
    unit: Annotated[
        int | None, typer.Option("--unit", help="Unit id (database; default: the organisation)")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Released quarter, e.g. 2026-Q1 (default: latest)")
    ] = None,
    resamples: Annotated[
        int, typer.Option("--resamples", min=0, max=20000, help="Bootstrap resamples")
    ] = DEFAULT_BOOTSTRAP,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed")] = DEFAULT_SEED,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.table,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Relative importance of each driver (general dominance, summing to R²) with 95% bootstrap
    intervals. From the database: the organisation's latest released quarter, released only for
    groups of at least 30 people."""
    if table is not None:
        if not outcome:
            fail("--outcome is required with --table")
        names = [d.strip() for d in drivers.split(",") if d.strip()] if drivers else None
        try:
            result = analyse_table(
                read_person_table(table),
                outcome=outcome,
                group=group,
                drivers=names,
                resamples=resamples,
                seed=seed,
            )
        except DriverError as error:
            fail(str(error))
        payload = result.to_dict()
    else:
        if outcome not in (None, "wellbeing") or group or drivers:
            fail("--outcome, --group and --drivers apply to --table; the database uses wellbeing")
        payload = _from_database(database_url, unit=unit, period=period, resamples=resamples)
    if output is OutputFormat.json:
        typer.echo(json.dumps(payload, indent=2))
    else:
        _print_table(payload)


def _from_database(
    database_url: str | None, *, unit: int | None, period: str | None, resamples: int
) -> dict:
    settings = load_settings(database_url)
    engine = open_engine(settings)
    try:
        with read_session(engine) as session:
            found = unit_drivers(
                session=session, viewer=SYSTEM_VIEWER, unit_id=unit, period=period, resamples=resamples
            )
    except LookupError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(f"cannot read the database (run `wellbeing init-db` first?): {error.__class__.__name__}")
    return found.to_dict()


@export_cli.command("actions")
def export_actions(
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or json")] = ExportFormat.csv,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Every action with its status and its effect on wellbeing compared with teams that took no
    action (what HR's "Drivers and actions" tab downloads)."""
    # Imported here: the effect estimates need SciPy's statistics, which the other exports
    # (loaded with this module for ``wellbeing export``) do not.
    from analytics.action_report import actions_overview, overview_csv

    engine = open_engine(load_settings(database_url))
    try:
        with read_session(engine) as session:
            overview = actions_overview(session=session, viewer=SYSTEM_VIEWER)
        with write_session(engine) as session:
            record(
                session,
                actor=SYSTEM_VIEWER.email,
                action="export.actions",
                detail={"rows": len(overview)},
            )
    except SQLAlchemyError as error:
        fail(f"cannot read the database (run `wellbeing init-db` first?): {error.__class__.__name__}")
    finally:
        engine.dispose()
    overview = overview.assign(taken_on=overview["taken_on"].astype(str))
    if format is ExportFormat.json:
        typer.echo(overview.to_json(orient="records", indent=2))
    else:
        typer.echo(overview_csv(overview), nl=False)
