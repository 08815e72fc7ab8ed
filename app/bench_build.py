"""The benchmark's bulk load (``build``): the synthetic organisation's answers, stored as
``surveys.submit`` would store them.

Why it looks like this:

- The organisation is built by bulk insert in chunks of one week x a block of teams, appended to
  unindexed staging tables (``executemany`` on SQLite, ``COPY`` on PostgreSQL) and moved into the
  real tables in primary-key order at the end, so every B-tree grows at its edge. Every (team, week)
  lies wholly inside one chunk, so the chunk's maintained aggregates (``team_week_score``,
  ``team_week_responses``) are complete when it is written and memory stays bounded by the chunk,
  whatever the response count.
- The answers are scored, classified and receipted by the same functions that ``surveys.submit``
  uses, and the aggregates are summed in submission order, so the bulk path stores exactly what
  the submission path would (``tests/test_maintained_aggregates.py`` replays a small build through
  ``submit_pulse`` and compares).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app.bench_org import (
    COMPLETE_NAME,
    BenchOrg,
    BenchPlan,
    SyntheticSubmission,
    create_structure,
    synthetic_chunks,
)
from models.calendar import periods_of_week
from models.db import is_sqlite, read_session, write_session
from models.org import Unit
from models.pulse import TeamWeekResponses
from surveys.comments import scrub_comment
from surveys.composition import DEFAULT_COMPOSITION_ID, Composition, get_composition
from surveys.submit import (
    NewResponse,
    add_to_weekly_sums,
    participation_receipt,
    person_names,
    response_ids,
)

# --------------------------------------------------------------------------------------------
# The pulse rules come from surveys (one rule in one place); the bench never re-implements them.
# --------------------------------------------------------------------------------------------


def stored_comment(comment: str | None, names: tuple[str, ...]) -> str | None:
    """The comment as ``submit_pulse_in`` stores it: scrubbed of e-mails, phones and names."""
    if comment and comment.strip():
        return scrub_comment(comment, names).text or None
    return None


# --------------------------------------------------------------------------------------------
# Rows for one chunk, exactly as the submission path would store them.
# --------------------------------------------------------------------------------------------


@dataclass
class ChunkRows:
    """The rows of one chunk for every pulse table, in a random order (storage order says nothing)."""

    responses: list[tuple[Any, ...]] = field(default_factory=list)
    receipts: list[tuple[Any, ...]] = field(default_factory=list)
    team_week_score: dict[tuple[int, str, str, str], list[float]] = field(default_factory=dict)
    team_week_responses: dict[tuple[int, str], list[int]] = field(default_factory=dict)


class FirstAnswers:
    """Who has answered yet in the current month, quarter and year, as chunks arrive in week order:
    a longer period's receipt is written with a person's first answer in it (as
    ``models.participation`` does), so once per person and period. Holds one period per kind."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, set[int]]] = {}

    def receipts(self, key: bytes, person_id: int, team_id: int, week: str) -> list[tuple[Any, ...]]:
        """(period, receipt, team) of the week and of the longer periods not yet answered in."""
        rows: list[tuple[Any, ...]] = [(week, participation_receipt(key, person_id, week), team_id)]
        for kind, period in periods_of_week(week).items():
            if kind == "week":
                continue
            label, people = self._seen.get(kind, ("", set()))
            if label != period:
                label, people = self._seen[kind] = (period, set())
            if person_id not in people:
                people.add(person_id)
                rows.append((period, participation_receipt(key, person_id, period), team_id))
        return rows


def chunk_rows(
    chunk: Sequence[SyntheticSubmission],
    composition: Composition,
    key: bytes,
    names: tuple[str, ...],
    rng: np.random.Generator,
    first_answers: FirstAnswers | None = None,
) -> ChunkRows:
    """What ``submit_pulse_in`` would store for each submission of the chunk, in the same order of
    aggregation (so sums are bit-for-bit those of the submission path). ``first_answers`` carries
    who has answered in the current month, quarter and year from chunk to chunk."""
    first_answers = first_answers or FirstAnswers()
    rows = ChunkRows()
    ids = response_ids([sub.week for sub in chunk])
    comments: dict[str | None, str | None] = {}
    for sub, response_id in zip(chunk, ids, strict=True):
        if sub.comment not in comments:
            comments[sub.comment] = stored_comment(sub.comment, names)
        comment = comments[sub.comment]
        days = (sub.days_home, sub.days_office, sub.days_site)
        # Scored, classified and serialised as a submission is (surveys.submit.NewResponse).
        response = NewResponse(
            sub.team_id, sub.week, composition, composition.validate(sub.answers), days, comment
        )
        rows.receipts.extend(first_answers.receipts(key, sub.person_id, sub.team_id, sub.week))
        rows.responses.append(
            (
                response_id,
                sub.team_id,
                sub.week,
                composition.label,
                *days,
                response.pattern,
                comment,
                response.answers_json,
                response.scores_json,
            )
        )
        add_to_weekly_sums(rows.team_week_score, rows.team_week_responses, response)
    for table in (rows.responses, rows.receipts):
        order = rng.permutation(len(table))
        table[:] = [table[j] for j in order]
    return rows


RESPONSE_COLUMNS = (
    "id",
    "team_id",
    "week",
    "instrument_version",
    "days_home",
    "days_office",
    "days_site",
    "work_pattern",
    "comment",
    "answers",
    "scores",
)
PULSE_TABLES = (
    ("pulse_response", RESPONSE_COLUMNS),
    ("participation_receipt", ("period", "receipt", "team_id")),
)
AGGREGATE_TABLES = (
    ("team_week_score", ("team_id", "week", "construct_id", "work_pattern", "n", "total", "total_sq")),
    ("team_week_responses", ("team_id", "week", "n", "comments")),
)


def _table_rows(rows: ChunkRows) -> list[list[tuple[Any, ...]]]:
    return [
        rows.responses,
        rows.receipts,
        [(*k, *v) for k, v in rows.team_week_score.items()],
        [(*k, *v) for k, v in rows.team_week_responses.items()],
    ]


STAGE_PREFIX = "bench_stage_"
PRIMARY_KEYS = {
    "pulse_response": ("id",),
    "participation_receipt": ("period", "receipt"),
    "team_week_score": ("team_id", "week", "construct_id", "work_pattern"),
    "team_week_responses": ("team_id", "week"),
}


def _create_sqlite_stages(dbapi: Any) -> None:
    """Unindexed staging copies of the pulse tables (same columns and affinities, no rows)."""
    cursor = dbapi.cursor()
    for table, columns in (*PULSE_TABLES, *AGGREGATE_TABLES):
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_PREFIX}{table}")
        cursor.execute(
            f"CREATE TABLE {STAGE_PREFIX}{table} AS SELECT {', '.join(columns)} FROM {table} WHERE 0"
        )
    cursor.close()


def _write_sqlite(dbapi: Any, rows: ChunkRows) -> None:
    """Append one chunk to the staging tables in one transaction (no index to keep up to date)."""
    cursor = dbapi.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        for (table, columns), table_rows in zip(
            (*PULSE_TABLES, *AGGREGATE_TABLES), _table_rows(rows), strict=True
        ):
            marks = ", ".join("?" * len(columns))
            cursor.executemany(
                f"INSERT INTO {STAGE_PREFIX}{table} ({', '.join(columns)}) VALUES ({marks})", table_rows
            )
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.close()


def _move_sqlite_stages(dbapi: Any) -> None:
    """Move the staged rows into the real tables in primary-key order, then drop the stages.

    In key order every index and the table itself grow at their ends, instead of one scattered page
    write per row. Rows are stored in the order of their random keys (response id, receipt HMAC),
    so storage order still says nothing about who answered when, as with ``submit_pulse``'s random
    rowids. Parents first, for the foreign keys."""
    cursor = dbapi.cursor()
    for table, columns in (*PULSE_TABLES, *AGGREGATE_TABLES):
        listed = ", ".join(columns)
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(
                f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {STAGE_PREFIX}{table} "
                f"ORDER BY {', '.join(PRIMARY_KEYS[table])}"
            )
            cursor.execute(f"DROP TABLE {STAGE_PREFIX}{table}")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    cursor.close()


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    return (
        str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _create_postgres_stages(dbapi: Any) -> None:
    """Unlogged, unindexed staging copies of the pulse tables."""
    connection = dbapi.driver_connection
    with connection.transaction(), connection.cursor() as cursor:
        for table, _ in (*PULSE_TABLES, *AGGREGATE_TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_PREFIX}{table}")
            cursor.execute(f"CREATE UNLOGGED TABLE {STAGE_PREFIX}{table} (LIKE {table})")


def _move_postgres_stages(dbapi: Any) -> None:
    """As on SQLite: staged rows into the real tables in key order, parents first, one transaction.

    PostgreSQL checks foreign keys with a trigger per row (most of the time of a plain move), so a
    superuser's move skips them as pg_restore does (``session_replication_role = replica``): the
    rows are consistent by construction (each chunk is generated whole, responses first)."""
    connection = dbapi.driver_connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    superuser = bool(row and row[0])
    with connection.transaction(), connection.cursor() as cursor:
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for table, columns in (*PULSE_TABLES, *AGGREGATE_TABLES):
            listed = ", ".join(columns)
            cursor.execute(
                f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {STAGE_PREFIX}{table} "
                f"ORDER BY {', '.join(PRIMARY_KEYS[table])}"
            )
            cursor.execute(f"DROP TABLE {STAGE_PREFIX}{table}")


def _write_postgres(dbapi: Any, rows: ChunkRows) -> None:
    """Append one chunk to the staging tables: one transaction of COPYs."""
    connection = dbapi.driver_connection
    with connection.transaction(), connection.cursor() as cursor:
        for (table, columns), table_rows in zip(
            (*PULSE_TABLES, *AGGREGATE_TABLES), _table_rows(rows), strict=True
        ):
            with cursor.copy(f"COPY {STAGE_PREFIX}{table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write("".join("\t".join(_copy_text(v) for v in row) + "\n" for row in table_rows))


def all_names(engine: Engine) -> tuple[str, ...]:
    """Display names exactly as ``submit_pulse_in`` reads them for comment scrubbing."""
    with read_session(engine) as session:
        return person_names(session)


def build(
    engine: Engine,
    plan: BenchPlan,
    key: bytes,
    composition: Composition | None = None,
    progress: Callable[[int], None] = lambda _done: None,
    log: Callable[[str], None] = lambda _message: None,
) -> BenchOrg:
    """Create the organisation and bulk-load its year of answers; ``progress(n)`` after each chunk."""
    started = time.perf_counter()

    def phase(message: str) -> None:
        log(f"{message} ({time.perf_counter() - started:.1f} s)")

    composition = composition or get_composition(DEFAULT_COMPOSITION_ID)
    org = create_structure(engine, plan)
    names = all_names(engine)
    phase("organisation, people, periods and objectives created")
    sqlite = is_sqlite(str(engine.url))
    rng = np.random.default_rng([plan.seed, 4])
    raw = engine.raw_connection()
    try:
        if sqlite:
            cursor = raw.cursor()
            # For this loading connection only (it is discarded afterwards): a 64 MB page cache
            # (also the sorter's budget; it spills to temporary files beyond that, so memory stays
            # flat at any size), and a checkpoint every ~400 MB of WAL instead of every 4 MB.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA wal_autocheckpoint=100000")
            cursor.close()
            _create_sqlite_stages(raw)
        else:
            raw.driver_connection.autocommit = True  # each chunk is its own transaction block
            _create_postgres_stages(raw)
        items = [item for _, item in composition.items]
        first_answers = FirstAnswers()
        for chunk in synthetic_chunks(plan, org, items):
            rows = chunk_rows(chunk, composition, key, names, rng, first_answers)
            if sqlite:
                _write_sqlite(raw, rows)
            else:
                _write_postgres(raw, rows)
            progress(len(chunk))
        phase("answers generated, scored and written")
        if sqlite:
            _move_sqlite_stages(raw)
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        else:
            _move_postgres_stages(raw)
        phase("staged rows moved into place in key order")
    finally:
        raw.invalidate()  # its loading pragmas must not serve the measurements
    settle_after_bulk_load(engine)
    phase("statistics gathered, database settled after the load")
    with write_session(engine) as session:
        root = session.get(Unit, org.root_id)
        assert root is not None
        root.name = COMPLETE_NAME
        session.add(root)
    return org


def settle_after_bulk_load(engine: Engine) -> None:
    """Statistics, as after any bulk load; on PostgreSQL also what a server does in its own time
    after one, so that the measurements do not pay for it: VACUUM (it sets every new row's
    visibility hint bits; otherwise the first query to read a row sets them, and the background
    writer then writes half a gigabyte of pages back while submissions wait for their commits),
    and a CHECKPOINT (the load's dirty pages written now, not during the bursts). CHECKPOINT
    needs a superuser or pg_checkpoint; without it the server gets there in its own time."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)" if postgres else "ANALYZE"))
        if postgres:
            try:
                connection.execute(text("CHECKPOINT"))
            except DBAPIError:
                pass  # not allowed for this role: the load's pages are written back later


def count_responses(engine: Engine, plan: BenchPlan) -> int:
    with read_session(engine) as session:
        return int(
            session.exec(
                select(func.coalesce(func.sum(TeamWeekResponses.n), 0)).where(
                    TeamWeekResponses.week.between(plan.first_week, plan.last_week)
                )
            ).one()
        )
