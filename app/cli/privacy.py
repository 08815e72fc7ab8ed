"""``wellbeing export aggregates``: an open-data release of gated aggregates (audited as "cli")."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from analytics.export import build_release, default_range, metadata_json, record_export, to_csv, to_json
from analytics.gate import SYSTEM_VIEWER
from app.cli.common import DatabaseUrlOption, export_cli, fail, load_settings, open_engine
from models.base import iso_week, week_monday
from models.db import read_session, write_session


class Level(StrEnum):
    team = "team"
    unit = "unit"
    organisation = "organisation"


class Format(StrEnum):
    csv = "csv"
    json = "json"


class By(StrEnum):
    week = "week"
    window = "window"


def _week(label: str | None, option: str) -> str | None:
    if label is None:
        return None
    try:
        monday = week_monday(label)
    except ValueError:
        fail(f"{option} {label[:40]!r} is not an ISO week such as 2026-W01")
    if iso_week(monday) != label:
        fail(f"{option} {label!r} is not an ISO week such as {iso_week(monday)}")
    current = iso_week(date.today())
    if label > current:  # nothing lies ahead, and the release would walk every week up to it
        fail(f"{option} {label} is after the current week ({current})")
    return label


@export_cli.command("aggregates")
def export_aggregates(
    level: Annotated[
        Level, typer.Option("--level", help="team, unit (between organisation and team) or organisation")
    ],
    fmt: Annotated[Format, typer.Option("--format", help="csv or json")] = Format.csv,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="File to write (default: stdout). CSV metadata goes to "
            "FILE.metadata.json, or to stderr when writing to stdout.",
        ),
    ] = None,
    from_week: Annotated[
        str | None, typer.Option("--from", help="First ISO week, e.g. 2026-W01")
    ] = None,
    to_week: Annotated[str | None, typer.Option("--to", help="Last ISO week, e.g. 2026-W20")] = None,
    by: Annotated[
        By, typer.Option("--by", help="week: one figure per week; window: one per range")
    ] = By.week,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Export gated aggregates with their metadata; only figures the privacy gate releases."""
    settings = load_settings(database_url)
    rules = settings.privacy_rules()
    start, end = _week(from_week, "--from"), _week(to_week, "--to")
    engine = open_engine(settings)
    try:
        with read_session(engine) as session:
            known = default_range(session)
            if known is None and (start is None or end is None):
                fail("there are no pulse periods on record; give --from and --to")
            start = start or known[0]  # type: ignore[index]
            end = end or known[1]  # type: ignore[index]
            if start > end:
                fail(f"--from {start} is after --to {end}")
            release = build_release(
                session=session,
                viewer=SYSTEM_VIEWER,
                rules=rules,
                level=level.value,
                start_week=start,
                end_week=end,
                by=by.value,
            )
        text = to_json(release) if fmt is Format.json else to_csv(release)
        destination = str(output) if output else "stdout"
        if output is not None:
            try:
                output.write_text(text, encoding="utf-8")
                if fmt is Format.csv:
                    Path(f"{output}.metadata.json").write_text(metadata_json(release), encoding="utf-8")
            except OSError as error:
                fail(f"cannot write {output}: {error}")
        else:
            typer.echo(text, nl=False)
            if fmt is Format.csv:
                typer.echo(metadata_json(release), err=True)
        with write_session(engine) as session:
            record_export(session, actor="cli", release=release, destination=destination)
    finally:
        engine.dispose()
    if output is not None:
        typer.secho(f"Wrote {len(release.records)} records to {output}", err=True)
