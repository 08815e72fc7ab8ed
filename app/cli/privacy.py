"""``wellbeing release`` (freeze closed periods) and ``wellbeing export aggregates`` (publish them).

Exports read only the store of frozen releases: whole calendar periods that have closed, never a
free range of weeks (a range and the range one week shorter differ by one person's week).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from analytics.export import build_release, metadata_json, record_export, to_csv, to_json
from analytics.privacy import SYSTEM_VIEWER, release_due
from analytics.privacy.release import as_of_moment
from app.cli.common import (
    DatabaseUrlOption,
    ExportFormat,
    cli,
    export_cli,
    fail,
    load_settings,
    open_engine,
)
from models import calendar
from models.db import read_session, write_session


class Level(StrEnum):
    team = "team"
    unit = "unit"
    organisation = "organisation"


class Period(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


def _as_of(text: str | None, time_zone: str) -> datetime:
    if text is None:
        return datetime.now(as_of_moment(date.today(), time_zone).tzinfo)
    try:
        return as_of_moment(date.fromisoformat(text), time_zone)
    except ValueError:
        fail(f"--as-of {text!r} is not a date such as 2026-12-02")


@cli.command("release")
def release(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Release what is due by the start of this day (default: now)"),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Release every closed period whose grace period has passed: computed once, then frozen.

    Meant for cron or a timer (hourly is plenty); running it again releases only what is new."""
    settings = load_settings(database_url)
    schedule = settings.release_schedule()
    now = _as_of(as_of, schedule.time_zone)
    engine = open_engine(settings)
    try:
        done = release_due(
            engine,
            now=now,
            rules=settings.privacy_rules(),
            schedule=schedule,
            progress=lambda organisation, period: typer.echo(
                f"Released {period} for {organisation}", err=True
            ),
        )
    finally:
        engine.dispose()
    typer.echo(f"Released {len(done)} period(s).")


@export_cli.command("aggregates")
def export_aggregates(
    level: Annotated[
        Level, typer.Option("--level", help="team, unit (between organisation and team) or organisation")
    ],
    period: Annotated[
        Period, typer.Option("--period", help="week, month, quarter or year (default: week)")
    ] = Period.week,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json")] = ExportFormat.csv,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="File to write (default: stdout). CSV metadata goes to "
            "FILE.metadata.json, or to stderr when writing to stdout.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="First period, a label of the --period kind: 2026-W10, 2026-03, 2026-Q1, 2026"
        ),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last period, a label of the --period kind")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", hidden=True, help="Retired: figures exist only per calendar period"),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Export every released figure at one level for one period kind, with its metadata."""
    if by is not None:
        fail(
            "--by is no longer accepted: figures exist only for whole calendar periods; use "
            f"--period week|month|quarter|year and --from/--to labels such as {calendar.allowed_forms()}"
        )
    kind = period.value
    for option, label in (("--from", start), ("--to", end)):
        if label is not None:
            try:
                calendar.parse(label, kind)  # type: ignore[arg-type]
            except calendar.PeriodError as error:
                fail(f"{option}: {error}")
    if start is not None and end is not None and start > end:
        fail(f"--from {start} is after --to {end}")
    settings = load_settings(database_url)
    engine = open_engine(settings)
    try:
        with read_session(engine) as session:
            release = build_release(
                session=session,
                viewer=SYSTEM_VIEWER,
                rules=settings.privacy_rules(),
                level=level.value,
                kind=kind,  # type: ignore[arg-type]
                start=start,
                end=end,
            )
        text = to_json(release) if fmt is ExportFormat.json else to_csv(release)
        destination = str(output) if output else "stdout"
        if output is not None:
            try:
                output.write_text(text, encoding="utf-8")
                if fmt is ExportFormat.csv:
                    Path(f"{output}.metadata.json").write_text(metadata_json(release), encoding="utf-8")
            except OSError as error:
                fail(f"cannot write {output}: {error}")
        else:
            typer.echo(text, nl=False)
            if fmt is ExportFormat.csv:
                typer.echo(metadata_json(release), err=True)
        with write_session(engine) as session:
            record_export(session, actor="cli", release=release, destination=destination)
    finally:
        engine.dispose()
    if output is not None:
        typer.secho(f"Wrote {len(release.records)} records to {output}", err=True)
