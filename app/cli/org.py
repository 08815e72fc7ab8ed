"""Set-up commands: migrate, seed the demo organisation, start the demo, import/export the org."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import DatabaseUrlOption, cli, fail, load_settings, open_engine
from models.db import read_session, write_session
from models.migrate import upgrade_to_head
from models.org_csv import OrgImportError, export_org, import_org

CLI_ACTOR = "cli"


def _migrate(url: str) -> None:
    typer.echo(f"Migrating {url} ...")
    try:
        upgrade_to_head(url)
    except Exception as error:  # noqa: BLE001
        fail(f"migration failed: {error}")


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
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {error}")
    engine = open_engine(settings)
    try:
        with write_session(engine) as session:
            summary = import_org(session, text, actor=CLI_ACTOR)
    except OrgImportError as error:
        fail(f"{file}: {error}")
    except Exception as error:  # noqa: BLE001  (e.g. the database is not migrated)
        fail(f"import failed, nothing was changed: {error}")
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
    except Exception as error:  # noqa: BLE001
        fail(f"export failed: {error}")
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {file}: {error}")
    typer.echo(f"Wrote {len(text.splitlines()) - 1} rows to {file}.")
