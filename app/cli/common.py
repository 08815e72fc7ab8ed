"""The Typer apps and the helpers every command shares (database URL, clear failures).

Each command module registers its commands on ``cli`` or ``export_cli`` with decorators.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from sqlalchemy.engine import Engine

from app.settings import Settings, SettingsError, get_settings
from models.db import make_engine

cli = typer.Typer(
    name="wellbeing",
    help="Wellbeing & Outcomes Tracker: set-up, demo data, imports, exports and batch jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
export_cli = typer.Typer(help="Export gated aggregates or outcomes.", no_args_is_help=True)
cli.add_typer(export_cli, name="export")

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database URL (overrides WELLBEING_DATABASE_URL), e.g. sqlite:///data/x.db or "
        "postgresql+psycopg://user@host/db",
        show_default=False,
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear message on stderr and exit non-zero."""
    typer.secho(f"Error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def load_settings(database_url: str | None = None) -> Settings:
    """Settings with ``--database-url`` applied; settings errors become a clear exit."""
    try:
        settings = get_settings()
    except (SettingsError, ValueError) as error:
        fail(str(error))
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def open_engine(settings: Settings) -> Engine:
    try:
        return make_engine(settings.database_url)
    except Exception as error:  # noqa: BLE001  (bad URL, missing driver: say so plainly)
        fail(f"cannot open database {settings.database_url!r}: {error}")
