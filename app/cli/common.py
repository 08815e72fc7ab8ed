"""The Typer apps and the helpers every command shares (database URL, clear failures).

Each command module registers its commands on ``cli`` or ``export_cli`` with decorators.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from app.settings import Settings, SettingsError, get_settings
from models import csv_input
from models.db import make_engine, read_session
from models.faults import database_fault, describe_fault


@dataclass
class _Run:
    """What the running command was given (the CLI runs one command per process; tests reset it)."""

    debug: bool = False
    database_url: str | None = None


RUN = _Run()


def debugging() -> bool:
    """True when ``wellbeing --debug`` was given: failures show their traceback."""
    return RUN.debug


class _FriendlyGroup(TyperGroup):
    """Every command's unexpected failure becomes one line on stderr (the traceback only with the
    global ``--debug``): a database never initialised, one that cannot be reached, or any other."""

    def invoke(self, ctx: typer.Context) -> Any:
        RUN.debug, RUN.database_url = False, None
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except BrokenPipeError:
            # The reader stopped reading (`wellbeing export ... | head`): not the command's
            # failure. Later writes go nowhere, so the interpreter's own flush cannot fail too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as error:  # noqa: BLE001  (the one place that turns failures into a line)
            if RUN.debug:
                traceback.print_exception(error)
                raise typer.Exit(1) from None
            url = RUN.database_url or _configured_url()
            fail(describe_fault(error, url) + " (run with `wellbeing --debug ...` for details)")


class OutputFormat(StrEnum):
    """What a reporting command prints: a table for people, JSON for scripts."""

    table = "table"
    json = "json"


class ExportFormat(StrEnum):
    """What an export writes."""

    csv = "csv"
    json = "json"


cli = typer.Typer(
    cls=_FriendlyGroup,
    name="wellbeing",
    help="Wellbeing & Outcomes Tracker: set-up, demo data, imports, exports and batch jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
export_cli = typer.Typer(help="Export gated aggregates or outcomes.", no_args_is_help=True)
cli.add_typer(export_cli, name="export")


@cli.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when a command fails")
    ] = False,
) -> None:
    """Wellbeing & Outcomes Tracker: set-up, demo data, imports, exports and batch jobs."""
    RUN.debug = debug


def _configured_url() -> str | None:
    try:
        return get_settings().database_url
    except (SettingsError, ValueError):
        return None


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
    RUN.database_url = settings.database_url
    return settings


def open_engine(settings: Settings, *, require_schema: bool = True) -> Engine:
    """The engine, after checking the database can be reached and (unless ``require_schema`` is
    False, for ``init-db``) has been initialised; either failure is one line, no traceback."""
    try:
        engine = make_engine(settings.database_url)
    except (ArgumentError, ImportError, ValueError) as error:
        fail(f"cannot open the database URL {safe_url(settings.database_url)}: {type(error).__name__}")
    if require_schema:
        try:
            with read_session(engine) as session:
                fault = database_fault(session)
        except SQLAlchemyError as error:
            engine.dispose()
            if RUN.debug:
                raise
            fail(describe_fault(error, settings.database_url))
        if fault:
            engine.dispose()
            fail(fault)
    return engine


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url[:80])


def read_upload(path: Path) -> bytes:
    """A file to import, as bytes, refused up front if missing, unreadable or too big."""
    try:
        size = path.stat().st_size
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    problem = csv_input.too_big(size)
    if problem:
        fail(f"{path}: {problem}")
    try:
        with path.open("rb") as handle:  # bounded: a device or pipe reports no size
            data = handle.read(csv_input.MAX_FILE_BYTES + 1)
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror or error}")
    problem = csv_input.too_big(len(data))
    if problem:
        fail(f"{path}: {problem}")
    return data
