"""Batched SQL for the pulse tables: many rows per statement, in the order each database likes,
and the secure randomness that decides storage order.

Shared by the submission path (``surveys.submit``) and the participation receipts
(``models.participation``): one place for the statements that 200 simultaneous submitters share.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError

from models.base import week_monday


def random_words(count: int) -> list[int]:
    """``count`` random 64-bit numbers from one read of the system's secure source (drawing
    them one at a time, a batch of 200 submissions made 770 system calls: 2-3 ms)."""
    drawn = secrets.token_bytes(8 * count)
    return [int.from_bytes(drawn[8 * i : 8 * i + 8], "big") for i in range(count)]


# A pulse row's storage keys say nothing but its week (which the row states anyway): the week comes
# first, then randomness. Keyed by randomness alone, each new row landed on a random page of an
# index or table that grows by a million rows a year, and a burst of 200 submissions read hundreds
# of pages from disk. Keyed by week first, a week's rows sit together, in random order among
# themselves, and the current week's pages stay in memory.
_WEEK_ROWID_RANDOM_BITS = 44  # below the week's number; a clash (1 in 10^5 a week at 20,000 rows)
# is a refused batch, retried row by row with new rowids (models.group_commit)


def week_rowids(weeks: Sequence[str]) -> list[int]:
    """SQLite rowids for pulse rows of these weeks: each row's week number, then 44 random bits
    (rows are stored in rowid order, so by week, at random within it)."""
    numbers = {week: week_monday(week).toordinal() // 7 for week in set(weeks)}
    drawn = random_words(len(weeks))
    shift = 64 - _WEEK_ROWID_RANDOM_BITS
    return [
        numbers[week] << _WEEK_ROWID_RANDOM_BITS | word >> shift
        for week, word in zip(weeks, drawn, strict=True)
    ]


def shuffle(rows: list[Any]) -> None:
    """Put ``rows`` in a uniformly random order, by one random 64-bit key per row from the secure
    source (``random.SystemRandom().shuffle`` reads it once or more per row)."""
    keys = random_words(len(rows))
    order = sorted(range(len(rows)), key=keys.__getitem__)
    rows[:] = [rows[i] for i in order]


def write_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    tail: str = "",
) -> CursorResult[Any] | None:
    """``INSERT INTO table (columns) <rows> tail``, in as few round trips as each database likes.

    SQLite: one prepared statement run per row (``executemany``, a loop in C); one multi-row
    VALUES statement measured slower. PostgreSQL: one statement that reads its rows from one array
    per column (``unnest``), with the result (for ``RETURNING``); a multi-row VALUES statement of
    1,000 upserts took 24-36 ms to plan and run, ``unnest`` 10-11 ms, and a statement per row costs
    a round trip per row. The arrays go in binary (``%b``): psycopg's text format escapes every
    element with a regular expression, 4 of a 200-submission batch's 30 ms. Rows must not repeat
    an upsert's key."""
    if not rows:
        return None
    listed = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({listed}) VALUES ({marks}){tail}", list(rows)
        )
        return None
    # One array per column, of the column's type as PostgreSQL names it (VARCHAR(32), JSONB ...).
    types = [table.c[column].type.compile(dialect=connection.dialect) for column in columns]
    arrays = ", ".join(f"%b::{sql_type}[]" for sql_type in types)
    return connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({listed}) SELECT * FROM unnest({arrays}){tail}",
        tuple(list(values) for values in zip(*rows, strict=True)),
    )


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """PostgreSQL: send the statements inside one after another without waiting for each one's
    result (psycopg's pipeline mode), for statements whose results nobody reads. The server runs
    one while the next one's arrays are built, and the batch waits for the network (and then for
    the interpreter lock, behind every other thread) once instead of three times: a batch of 200
    submissions took a median of 31 ms before, 20 ms after. An error is raised at the end of the
    block (as SQLAlchemy raises it), and the caller's transaction rolls back. SQLite: nothing to
    do."""
    if connection.dialect.name != "postgresql":
        yield
        return
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        with connection.connection.dbapi_connection.pipeline():  # type: ignore[union-attr]
            yield
    except dbapi_error as error:  # as SQLAlchemy raises it outside a pipeline (IntegrityError ...)
        raise DBAPIError.instance(None, None, error, dbapi_error) from error


def existing(
    connection: Connection,
    table: str,
    column: str,
    values: Sequence[Any],
    *,
    period: str | None = None,
) -> set[Any]:
    """Which of ``values`` are in ``table.column`` (among the rows of ``period``, if given): one
    query, in the driver's own placeholders (an expanding SQLAlchemy IN is compiled again on every
    call: 1.5 ms for 200 ids)."""
    if not values:
        return set()
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    listed = ", ".join([mark] * len(values))
    of_period = "" if period is None else f" AND period = {mark}"
    found = connection.exec_driver_sql(
        f"SELECT {column} FROM {table} WHERE {column} IN ({listed}){of_period}",
        (*values, *([] if period is None else [period])),
    )
    return {row[0] for row in found}
