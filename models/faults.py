"""Database failures told as a person can act on them, in one line, never with SQL or parameters.

``describe_fault`` names the few failures that have a fix (the schema was never created, the server
cannot be reached, the file cannot be opened, the database is busy) and otherwise says only what
kind of error it was. ``is_transient`` says whether trying again in a moment may well succeed (a
dropped connection, SQLite's "database is locked", a serialisation failure).
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, SQLAlchemyError
from sqlmodel import Session

from models.language import N_

NOT_INITIALISED = "database not initialised, run `wellbeing init-db`"
OUT_OF_DATE = "database schema is older than this version, run `wellbeing init-db`"
TRY_AGAIN = N_(
    "The service is busy or briefly unavailable. Nothing was saved; please try again in a moment."
)

SCHEMA_MARKER_TABLE = "unit"  # the first table any schema has: missing means never initialised
_MISSING_SCHEMA = ("no such table", "undefinedtable", "does not exist")
_MISSING_COLUMN = ("no such column", "undefinedcolumn")
_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "could not translate host name",
    "name or service not known",
    "timeout expired",
    "connection timed out",
    "server closed the connection",
    "connection is closed",
    "connection has been closed",
    "terminating connection",
    "connection reset",
    "no route to host",
    "network is unreachable",
    "ssl syscall error",
    "consuming input failed",
)
_BUSY = ("database is locked", "database is busy", "could not serialize", "deadlock detected")


def _texts(error: BaseException) -> str:
    """The lower-cased class names and messages along the error's chain (for matching only)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(type(current).__name__.lower())
        original = getattr(current, "orig", None)
        if original is not None:
            parts.append(type(original).__name__.lower())
            parts.append(str(original).lower())
        elif not isinstance(current, SQLAlchemyError):
            parts.append(str(current).lower())
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def where(url: str | None) -> str:
    """HOST:PORT for a server, the file for SQLite, without any password."""
    if not url:
        return "the configured database"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the configured database"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    default_port = {"postgresql": 5432, "mysql": 3306}.get(parsed.get_backend_name())
    return f"{parsed.host or 'localhost'}:{parsed.port or default_port}"


def is_transient(error: BaseException) -> bool:
    """True when the same work may well succeed if tried again in a moment."""
    if isinstance(error, DisconnectionError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    text = _texts(error)
    return any(marker in text for marker in _BUSY + _UNREACHABLE)


def describe_fault(error: BaseException, url: str | None) -> str:
    """One line saying what went wrong and what to do; never SQL, parameters or a traceback."""
    text = _texts(error)
    place = where(url)
    if "password authentication failed" in text or "authentication failed" in text:
        return f"the database at {place} refused the user name or password"
    if "database" in text and "does not exist" in text and "relation" not in text:
        return f"cannot reach the database at {place}: that database does not exist on the server"
    if any(marker in text for marker in _UNREACHABLE) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        return f"cannot reach the database at {place}"
    if "unable to open database file" in text:
        return f"cannot open the database file {place}"
    if any(marker in text for marker in _BUSY):
        return "the database is busy with another write; try again in a moment"
    if any(marker in text for marker in _MISSING_SCHEMA):
        return NOT_INITIALISED
    if any(marker in text for marker in _MISSING_COLUMN):
        return OUT_OF_DATE
    if isinstance(error, SQLAlchemyError):
        return f"the database reported an error ({type(error).__name__})"
    first_line = (str(error).splitlines() or [""])[0][:200]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def database_fault(session: Session) -> str | None:
    """Why commands cannot use this database yet (never initialised), or None when they can.

    Connecting may raise (server unreachable); the caller describes that with ``describe_fault``."""
    if not inspect(session.connection()).has_table(SCHEMA_MARKER_TABLE):
        return NOT_INITIALISED
    return None
