"""Set-up commands: migrate, seed the demo organisation, start the demo, import/export the org."""

from __future__ import annotations

import typer

from app.cli.common import DatabaseUrlOption, cli, fail, load_settings
from models.migrate import upgrade_to_head


@cli.command("init-db")
def init_db(database_url: DatabaseUrlOption = None) -> None:
    """Create or migrate the database to the newest schema."""
    settings = load_settings(database_url)
    typer.echo(f"Migrating {settings.database_url} ...")
    try:
        upgrade_to_head(settings.database_url)
    except Exception as error:  # noqa: BLE001
        fail(f"migration failed: {error}")
    typer.echo("Database is at the newest schema.")
