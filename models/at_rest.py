"""Anonymous at rest: seal the pulse storage so nothing physical links an answer to its person.

A response and its participation receipts are written in the same transaction (they must be:
the receipt is what refuses a second answer). Whoever holds the database file and the
participation key can name the people behind receipts, so anything physical that the two rows
share would tell who answered what:

- SQLite: the order of cells inside a page (new cells are placed below the last one), pages and
  freed cells that still hold deleted rows, and the write-ahead log, whose frames are every commit
  in order (one submission's response and receipts in one commit).
- PostgreSQL: ``ctid`` (heap position: insertion order), ``xmin`` (the inserting transaction,
  shared by a response and its receipts; freezing keeps it), and dead row versions holding both
  until vacuumed.

Sealing removes all of them for the weeks written since the last seal (``unsealed_week``, marked
by each submission's transaction, so any process can finish a seal another did not): in one
transaction, every response of those weeks and every receipt of their periods (week, month,
quarter, year) is deleted and written back in a random order of its own (SQLite: with new random
rowids; PostgreSQL: all rows then share the seal's transaction id). Then, SQLite: deleted content
is already zeroed (``PRAGMA secure_delete=ON`` on every connection, ``models.db``) and the
write-ahead log is checkpointed and truncated to zero bytes; PostgreSQL: the two tables are
vacuumed, so no dead version keeps an old ``ctid`` or ``xmin``. Between a write and its seal the
week is linkable: ``StorageSealer`` seals ``SEAL_QUIET_SECONDS`` after submissions pause, and at
most ``SEAL_WITHIN_SECONDS`` after the first unsealed one (docs/PRIVACY_AT_REST.md).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from models.batch_sql import shuffle, week_rowids, write_rows
from models.calendar import periods_of_week
from models.pulse import ParticipationReceipt, PulseResponse, UnsealedWeek

# A seal runs once submissions have paused this long (a burst is sealed once, after it) ...
SEAL_QUIET_SECONDS = 2.0
# ... and no later than this after the first unsealed submission, however busy the writers are.
SEAL_WITHIN_SECONDS = 60.0
# A seal that could not finish (locks, readers holding the log) is tried again this much later.
SEAL_RETRY_SECONDS = 5.0
# SQLite: a truncating checkpoint waits for readers while holding off writers, so each attempt
# waits at most this long, and attempts are spaced out (writers go on in between).
CHECKPOINT_WAIT_MS = 50
CHECKPOINT_ATTEMPTS = 40
# PostgreSQL: a background seal gives up on a lock rather than queue writers behind it for long.
SEAL_LOCK_TIMEOUT = "500ms"
# After this many seals in a row that failed or could not finish (the database is gone, a reader
# keeps a snapshot open for minutes) the thread waits for the next nudge.
SEAL_FAILURES_BEFORE_PAUSE = 12

_RESPONSE = PulseResponse.__table__  # type: ignore[attr-defined]
_RECEIPT = ParticipationReceipt.__table__  # type: ignore[attr-defined]
_UNSEALED = UnsealedWeek.__table__  # type: ignore[attr-defined]
_RESPONSE_COLUMNS = tuple(column.name for column in _RESPONSE.columns)
_SEALED_TABLES = ("unsealed_week", "pulse_response", "participation_receipt")
logger = logging.getLogger(__name__)


def mark_written(connection: Connection, weeks: Sequence[str]) -> None:
    """Record, in the writing transaction, that these weeks hold rows not yet sealed. Call it
    first: on PostgreSQL it takes the lock a seal waits for, so a seal never misses a row."""
    write_rows(
        connection,
        _UNSEALED,
        ("week",),
        [(week,) for week in sorted(set(weeks))],
        " ON CONFLICT (week) DO NOTHING",
    )


@dataclass(frozen=True)
class SealReport:
    """What one seal did. ``complete``: nothing written before it is linkable any more."""

    weeks: tuple[str, ...]
    responses: int
    receipts: int
    log_truncated: bool  # SQLite: the write-ahead log is zero bytes (PostgreSQL: always True)
    vacuumed: bool  # PostgreSQL: the old row versions are gone (SQLite: always True)

    @property
    def complete(self) -> bool:
        return self.log_truncated and self.vacuumed


def seal(engine: Engine, *, lock_timeout: str | None = None) -> SealReport:
    """Seal every unsealed week now (see the module's docstring); safe alongside submissions.

    One transaction per week (its responses, and the receipts of its week, month, quarter and
    year), so writers wait for one week's rewrite at a time, not for a year's after an upgrade.
    ``lock_timeout`` (PostgreSQL): give up, with the database's lock-timeout error, rather than
    wait longer for the tables (a background seal retries later)."""
    with _sealing(engine, lock_timeout) as connection:
        weeks = [row[0] for row in connection.exec_driver_sql("SELECT week FROM unsealed_week")]
    sealed: list[str] = []
    responses = receipts = 0
    for week in sorted(weeks):
        with _sealing(engine, lock_timeout) as connection:
            rewritten = _rewrite(connection, week)
        if rewritten is not None:  # (None: another seal did it meanwhile)
            sealed.append(week)
            responses, receipts = responses + rewritten[0], receipts + rewritten[1]
    if engine.dialect.name == "sqlite":
        return SealReport(tuple(sealed), responses, receipts, truncate_log(engine), True)
    # Also with no week to rewrite: an earlier seal's vacuum may have had to leave dead rows.
    return SealReport(tuple(sealed), responses, receipts, True, vacuum(engine))


@contextmanager
def _sealing(engine: Engine, lock_timeout: str | None) -> Iterator[Connection]:
    """A transaction that holds off writers of the pulse tables (not readers) until it ends:
    SQLite's write lock (``BEGIN IMMEDIATE``); PostgreSQL's three tables, locked at once, first,
    so no lock is taken later (writers take the marks' first: ``mark_written``)."""
    if engine.dialect.name == "sqlite":
        with engine.execution_options(sqlite_immediate=True).begin() as connection:
            yield connection
        return
    with engine.begin() as connection:
        if lock_timeout:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{lock_timeout}'")
        connection.exec_driver_sql(f"LOCK TABLE {', '.join(_SEALED_TABLES)} IN SHARE ROW EXCLUSIVE MODE")
        yield connection


def _rewrite(connection: Connection, week: str) -> tuple[int, int] | None:
    """Rewrite the responses of ``week`` and the receipts of every period holding it, each in a
    random order, and clear its mark: (responses, receipts), or None if it was not marked."""
    gone = connection.exec_driver_sql(
        _mark("DELETE FROM unsealed_week WHERE week = ?", connection), (week,)
    )
    if not gone.rowcount:
        return None
    periods = sorted(periods_of_week(week).values())
    if connection.dialect.name == "postgresql":
        responses = connection.exec_driver_sql(_MOVE_RESPONSES, ([week],)).rowcount
        return responses, connection.exec_driver_sql(_MOVE_RECEIPTS, (periods,)).rowcount
    return _rewrite_sqlite(connection, week, periods)


def _mark(sql: str, connection: Connection) -> str:
    """``?`` placeholders as the driver writes them."""
    return sql if connection.dialect.name == "sqlite" else sql.replace("?", "%s")


def _rewrite_sqlite(connection: Connection, week: str, periods: Sequence[str]) -> tuple[int, int]:
    """SQLite: read the rows, delete them (``secure_delete`` zeroes their cells and freed pages),
    and write them back shuffled, responses with new random rowids."""
    marks = ", ".join("?" * len(periods))
    listed = ", ".join(_RESPONSE_COLUMNS)
    responses = [
        tuple(row)
        for row in connection.exec_driver_sql(
            f"SELECT {listed} FROM pulse_response WHERE week = ?", (week,)
        )
    ]
    receipts = [
        tuple(row)
        for row in connection.exec_driver_sql(
            f"SELECT period, receipt, team_id FROM participation_receipt WHERE period IN ({marks})",
            tuple(periods),
        )
    ]
    connection.exec_driver_sql("DELETE FROM pulse_response WHERE week = ?", (week,))
    connection.exec_driver_sql(
        f"DELETE FROM participation_receipt WHERE period IN ({marks})", tuple(periods)
    )
    shuffle(responses)
    shuffle(receipts)
    rowids = week_rowids([week] * len(responses))
    write_rows(
        connection,
        _RESPONSE,
        ("rowid", *_RESPONSE_COLUMNS),
        [(rowid, *row) for rowid, row in zip(rowids, responses, strict=True)],
    )
    write_rows(connection, _RECEIPT, ("period", "receipt", "team_id"), receipts)
    return len(responses), len(receipts)


# PostgreSQL: moved in one statement each, in an order drawn from the server's strong random
# source; every row moved gets the seal's transaction id.
_MOVE_RESPONSES = (
    "WITH moved AS (DELETE FROM pulse_response WHERE week = ANY(%s) RETURNING *) "
    "INSERT INTO pulse_response SELECT * FROM moved ORDER BY gen_random_uuid()"
)
_MOVE_RECEIPTS = (
    "WITH moved AS (DELETE FROM participation_receipt WHERE period = ANY(%s) RETURNING *) "
    "INSERT INTO participation_receipt SELECT * FROM moved ORDER BY gen_random_uuid()"
)


def truncate_log(engine: Engine) -> bool:
    """SQLite: copy the write-ahead log into the database and truncate it to zero bytes; whether
    that happened (a reader still using the log's last frames holds it; tried again later)."""
    if engine.dialect.name != "sqlite":
        return True
    for attempt in range(CHECKPOINT_ATTEMPTS):
        connection = engine.pool.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                busy, _, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute("PRAGMA busy_timeout=30000")  # as models.db sets it
                cursor.close()
        finally:
            connection.close()
        if busy == 0:
            return True
        time.sleep(0.01 * (attempt + 1))
    return False


def vacuum(engine: Engine) -> bool:
    """PostgreSQL: remove the dead row versions of the pulse tables (each keeps the ``ctid`` and
    ``xmin`` its row had before the seal); whether none is left. A transaction that was already
    open when the seal committed keeps them visible, so VACUUM must leave them until it ends."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM pulse_response, participation_receipt")
        left = connection.exec_driver_sql(
            "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables "
            "WHERE relname IN ('pulse_response', 'participation_receipt') "
            "AND schemaname = current_schema()"
        ).scalar_one()
    return int(left) == 0


def rewrite_all(connection: Connection) -> None:
    """PostgreSQL, off hours (``wellbeing pulse-reorder``): rewrite both pulse tables whole, into
    new files. A seal leaves the old rows' bytes in the free space of their pages until new rows
    overwrite them (out of reach of SQL, but not of someone reading the files); this leaves none.
    Copies the rows aside, truncates (new files: nothing of the old ones stays in the tables)
    and writes them back in the order of their random keys, all in one transaction, and clears
    the unsealed marks (everything is sealed). Locks the tables while it runs. SQLite: see
    ``seal``, which already rewrites whole pages."""
    if connection.dialect.name != "postgresql":
        return
    tables = {"participation_receipt": "period, receipt", "pulse_response": "id"}  # key order
    for table in tables:
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE scramble_{table} ON COMMIT DROP AS SELECT * FROM {table}"
        )
    connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)}, unsealed_week")
    for table, order in tables.items():
        connection.exec_driver_sql(
            f"INSERT INTO {table} SELECT * FROM scramble_{table} ORDER BY {order}"
        )


class StorageSealer:
    """Seals one database in a background thread, soon after submissions (``nudge()`` after each
    committed batch): ``quiet`` seconds after they pause, and at most ``within`` seconds after the
    first unsealed one. The thread starts on a nudge and ends once nothing is left to seal; a seal
    that fails or cannot finish is tried again ``retry`` seconds later. Rows a process wrote but
    did not seal before it stopped stay marked: the next nudge, ``wellbeing seal`` or
    ``wellbeing backup`` seals them."""

    def __init__(
        self,
        engine: Engine,
        *,
        quiet: float = SEAL_QUIET_SECONDS,
        within: float = SEAL_WITHIN_SECONDS,
        retry: float = SEAL_RETRY_SECONDS,
    ) -> None:
        self._engine = weakref.ref(engine)
        self.quiet, self.within, self.retry = quiet, within, retry
        self._lock = threading.Lock()
        self._first: float | None = None  # first nudge not yet sealed
        self._last = 0.0  # latest nudge
        self._running = False
        self._failures = 0  # failed seals in a row
        self.seals = 0  # seals run (tests)

    def nudge(self) -> None:
        now = time.monotonic()
        with self._lock:
            self._last = now
            if self._first is None:
                self._first = now
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="pulse-storage-sealer", daemon=True).start()

    def _wait(self) -> float | None:
        """Seconds until the next seal is due (0: now), or None when nothing is waiting."""
        with self._lock:
            if self._first is None:
                self._running = False
                return None
            due = min(self._last + self.quiet, self._first + self.within)
            wait = due - time.monotonic()
            if wait <= 0:
                self._first = None  # nudges from here on are for the next seal
            return max(wait, 0.0)

    def _run(self) -> None:
        while (wait := self._wait()) is not None:
            if wait > 0:
                time.sleep(min(wait, self.quiet))
                continue
            engine = self._engine()
            if engine is None:
                with self._lock:
                    self._running = False
                return
            complete = False
            try:
                complete = seal(engine, lock_timeout=SEAL_LOCK_TIMEOUT).complete
            except Exception as error:  # noqa: BLE001  (logged; tried again)
                logger.warning("sealing the pulse storage failed (%s: %s)", type(error).__name__, error)
            del engine
            self.seals += 1
            self._failures = 0 if complete else self._failures + 1
            if not complete and self._failures < SEAL_FAILURES_BEFORE_PAUSE:
                self._again_in(self.retry)

    def seal_if_pending(self) -> None:
        """Seal now if a nudge is waiting (at exit: a daemon thread would be stopped mid-wait)."""
        with self._lock:
            pending, self._first = self._first is not None, None
        engine = self._engine()
        if pending and engine is not None:
            try:
                seal(engine, lock_timeout=SEAL_LOCK_TIMEOUT)
            except Exception as error:  # noqa: BLE001  (the weeks stay marked for the next seal)
                logger.warning("sealing the pulse storage at exit failed (%s)", error)

    def stop(self) -> None:
        """Forget what is waiting and let the thread end: the database is going away."""
        with self._lock:
            self._first = None
            self._engine = lambda: None  # type: ignore[assignment]

    def _again_in(self, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            if self._first is None:
                self._first = now - self.within + seconds
                self._last = now - self.quiet + seconds


_sealers: weakref.WeakKeyDictionary[Engine, StorageSealer] = weakref.WeakKeyDictionary()
_sealers_lock = threading.Lock()


def storage_sealer(engine: Engine) -> StorageSealer:
    """The background sealer of an engine's database (one per engine, made on first use)."""
    with _sealers_lock:
        sealer = _sealers.get(engine)
        if sealer is None:
            sealer = _sealers[engine] = StorageSealer(engine)
        return sealer


def forget_database(database: str) -> None:
    """Stop sealing a database that is about to be dropped (a throwaway test database), so that
    no seal, pending or at exit, tries to reach it once it is gone."""
    with _sealers_lock:
        doomed = [engine for engine in _sealers if engine.url.database == database]
        for engine in doomed:
            _sealers.pop(engine).stop()


def wait_until_idle(timeout: float) -> bool:
    """Wait until no background sealer of this process has a seal pending or running; whether
    that happened within ``timeout`` seconds (tests that read storage order: a sealer of another
    engine on the same database may otherwise rewrite the rows mid-test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _sealers_lock:
            sealers = list(_sealers.values())
        if not any(sealer._running for sealer in sealers):
            return True
        time.sleep(0.05)
    return False


@atexit.register
def _seal_at_exit() -> None:
    """A process that submitted and is ending seals what it wrote rather than leave it for the
    next seal (it still can, if the process is killed: the weeks stay marked)."""
    with _sealers_lock:
        sealers = list(_sealers.values())
    for sealer in sealers:
        sealer.seal_if_pending()
