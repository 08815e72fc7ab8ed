"""Set-up commands: migrate, seed the demo organisation, start the demo, import/export the org."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from analytics.privacy import release_due
from app.cli.common import (
    DatabaseUrlOption,
    cli,
    debugging,
    fail,
    load_settings,
    open_engine,
    read_upload,
    safe_url,
)
from app.settings import PROJECT_ROOT, Settings
from models.db import read_session, write_session
from models.faults import describe_fault
from models.migrate import upgrade_to_head
from models.org_csv import OrgImportError, export_org, import_org, parse_org_file
from surveys.demo import DemoError, DemoSummary, database_is_empty, seed_demo
from surveys.demo_actions import seed_demo_actions

SeedOption = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same council)")]
TeamsOption = Annotated[int, typer.Option("--teams", help="Number of teams (5-5000)")]
WeeksOption = Annotated[int, typer.Option("--weeks", help="Weeks of pulse answers, ending last week")]

CLI_ACTOR = "cli"


def _migrate(url: str) -> None:
    typer.echo(f"Migrating {safe_url(url)} ...")
    try:
        upgrade_to_head(url)
    except Exception as error:  # noqa: BLE001  (one line; the traceback only with --debug)
        if debugging():
            raise
        fail(f"migration failed: {describe_fault(error, url)}")


@cli.command("init-db")
def init_db(database_url: DatabaseUrlOption = None) -> None:
    """Create or migrate the database to the newest schema."""
    settings = load_settings(database_url)
    _migrate(settings.database_url)
    typer.echo("Database is at the newest schema.")


@cli.command("import-org")
def import_org_command(
    file: Annotated[Path, typer.Argument(help="Organisation CSV: type,code,name,parent,roles")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Import units and people from a CSV; any bad row refuses the whole file and lists every problem."""
    settings = load_settings(database_url)
    data = read_upload(file)
    parsed = parse_org_file(data)  # the slow part, before the write transaction
    engine = open_engine(settings)
    try:
        with write_session(engine) as session:
            summary = import_org(session, parsed, actor=CLI_ACTOR)
    except OrgImportError as error:
        fail(f"{file}: {error}")
    finally:
        engine.dispose()
    typer.echo(f"Imported {file}: {summary}.")


@cli.command("export-org")
def export_org_command(
    file: Annotated[Path, typer.Argument(help="Where to write the organisation CSV ('-' for stdout)")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write units and people in the import format, so the file imports back unchanged."""
    settings = load_settings(database_url)
    engine = open_engine(settings)
    try:
        with read_session(engine) as session:
            text = export_org(session)
    finally:
        engine.dispose()
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {file}: {error}")
    typer.echo(f"Wrote {len(text.splitlines()) - 1} rows to {file}.")


def _seed(
    settings: Settings,
    *,
    seed: int,
    teams: int,
    weeks: int,
    until: str | None = None,
    no_strain: bool = False,
) -> DemoSummary:
    engine = open_engine(settings)
    try:
        summary = seed_demo(
            engine,
            participation_key=settings.participation_key.get_secret_value().encode(),
            seed=seed,
            teams=teams,
            weeks=weeks,
            until=until,
            no_strain=no_strain,
            progress=typer.echo,
        )
        released = release_due(
            engine,
            now=datetime.now(UTC),
            rules=settings.privacy_rules(),
            schedule=settings.release_schedule(),
        )
        typer.echo(f"Released {len(released)} closed period(s).")
        typer.echo(seed_demo_actions(engine, strained_team_codes=summary.strained_team_codes))
        return summary
    except DemoError as error:
        fail(str(error))
    except Exception as error:  # noqa: BLE001  (one line; the traceback only with --debug)
        if debugging():
            raise
        fail(f"seeding failed: {describe_fault(error, settings.database_url)}")
    finally:
        engine.dispose()


@cli.command("seed-demo")
def seed_demo_command(
    seed: SeedOption = 1,
    teams: TeamsOption = 60,
    weeks: WeeksOption = 26,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Last seeded ISO week, e.g. 2026-W48 (default: last week)"),
    ] = None,
    no_strain: Annotated[bool, typer.Option("--no-strain", help="Plant no strain")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Build the fictional demo council (people, roles, pulse answers, objectives) in an empty DB."""
    settings = load_settings(database_url)
    summary = _seed(settings, seed=seed, teams=teams, weeks=weeks, until=until, no_strain=no_strain)
    typer.echo(f"Seeded {summary}.")


@cli.command("demo")
def demo_command(
    port: Annotated[int, typer.Option("--port", help="Port to serve on")] = 8501,
    seed: SeedOption = 1,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Migrate, seed the demo council if the database is empty, then serve the app."""
    settings = load_settings(database_url)
    _migrate(settings.database_url)
    engine = open_engine(settings, require_schema=False)
    try:
        empty = database_is_empty(engine)
    finally:
        engine.dispose()
    if empty:
        typer.echo("The database is empty: seeding the demo council (takes a minute or two) ...")
        summary = _seed(settings, seed=seed, teams=60, weeks=26)
        typer.echo(f"Seeded {summary}.")
    else:
        typer.echo("The database already has an organisation: serving it as it is.")
    typer.echo(f"Serving http://localhost:{port} (Ctrl+C stops it) ...")
    env = {**os.environ, "WELLBEING_DATABASE_URL": settings.database_url}
    command = [
        sys.executable,
        "-m",
        "app.serve",  # streamlit run, with the app's modules imported before the first visit
        "run",
        str(PROJECT_ROOT / "app" / "main.py"),
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
    ]
    try:
        code = subprocess.call(command, cwd=PROJECT_ROOT, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
