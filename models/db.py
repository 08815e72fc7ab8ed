"""The engine factory and session helpers for SQLite (default) and PostgreSQL.

SQLite: WAL, busy_timeout and foreign keys are set on every connection (they are per connection),
and writers start with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of
failing with "database is locked" when a read transaction tries to upgrade.

SQLite checkpoints (copying the write-ahead log back into the database file) run in a background
thread (``WalCheckpointer``), not in the commit that happens to cross the log's threshold: at a
million responses that copy took 40 of the 125 ms a batch of 200 submissions needed to commit.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import Pool
from sqlmodel import Session, create_engine

# A writer checkpoints only past WAL_BACKSTOP_PAGES (40 MB of 4 KB pages; SQLite's default is 1,000):
# the background checkpointer normally keeps the log far shorter, and this bounds it where none runs
# (a process that exits first) or one falls behind.
WAL_BACKSTOP_PAGES = 10_000
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    # Deleted content is overwritten with zeros, not left in free space and freelist pages for
    # someone holding the file to read back (models.at_rest rewrites rows to seal them).
    "secure_delete=ON",
    "busy_timeout=30000",
    "foreign_keys=ON",
    "synchronous=NORMAL",
    f"wal_autocheckpoint={WAL_BACKSTOP_PAGES}",
)
logger = logging.getLogger(__name__)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``; creates the folder of a SQLite file if needed."""
    if not is_sqlite(url):
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=40,
            hide_parameters=True,  # an error message or log never carries a comment or an e-mail
        )
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": 30, "check_same_thread": False},
        hide_parameters=True,
        pool_size=10,
        max_overflow=40,
        pool_use_lifo=True,  # warm page caches first (see open_writer_connection)
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session for one write transaction: committed on success, rolled back on any error.

    On SQLite it takes the write lock up front (``BEGIN IMMEDIATE``); on PostgreSQL it is a plain
    transaction.
    """
    sqlite = engine.dialect.name == "sqlite"
    bind = engine.execution_options(sqlite_immediate=True) if sqlite else engine
    with Session(bind) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    after_write(engine)


# The single writer's page cache on SQLite (SQLite's default is 2 MB per connection; 64 MB here).
WRITER_CACHE_KIB = 65_536


def open_writer_connection(engine: Engine) -> Connection:
    """A connection for a long-lived single writer (``models.group_commit``) to keep between its
    transactions: they take SQLite's write lock up front (``BEGIN IMMEDIATE``), and on SQLite it
    has a larger page cache, which stays warm from one batch to the next. A pooled connection's
    2 MB cache starts cold: at a million responses, 200 rows took 9 ms instead of 5. The pool
    hands out the most recently returned connection first, so the next burst's writer most
    likely gets the same one back, cache and all."""
    if engine.dialect.name != "sqlite":
        return engine.connect()
    connection = engine.execution_options(sqlite_immediate=True).connect()
    # On the driver's connection: through SQLAlchemy the statement would open a transaction.
    connection.connection.dbapi_connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")  # type: ignore[union-attr]
    return connection


def after_write(engine: Engine) -> None:
    """Call after committing a write: on SQLite, the background checkpointer takes it from there."""
    if engine.dialect.name == "sqlite":
        wal_checkpointer(engine).nudge()


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading; nothing it does is committed."""
    with Session(engine) as session:
        yield session


class WalCheckpointer:
    """Checkpoints one SQLite database's write-ahead log from a background thread.

    ``nudge()`` after a commit; the thread then runs a PASSIVE checkpoint (it never blocks readers
    or writers), at most one per ``spacing`` seconds, so a burst of commits shares one. The thread
    starts on the first nudge and ends after ``idle_seconds`` without one: nothing runs while the
    database is quiet, and a process may hold many engines (the tests do). It uses the engine's
    connection pool, which every engine made from it with other execution options shares."""

    def __init__(self, pool: Pool, *, spacing: float = 0.5, idle_seconds: float = 10.0) -> None:
        self._pool = weakref.ref(pool)
        self.spacing = spacing
        self.idle_seconds = idle_seconds
        self._nudged = threading.Event()
        self._lock = threading.Lock()
        self._running = False
        self.checkpoints = 0  # completed checkpoints (tests)

    def nudge(self) -> None:
        self._nudged.set()
        with self._lock:
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="sqlite-wal-checkpointer", daemon=True).start()

    def _run(self) -> None:
        while True:
            if not self._nudged.wait(self.idle_seconds):
                with self._lock:  # a nudge after this point starts a new thread
                    if not self._nudged.is_set():
                        self._running = False
                        return
            self._nudged.clear()
            pool = self._pool()
            if pool is None:
                return
            self.checkpoint(pool)
            del pool
            time.sleep(self.spacing)  # commits meanwhile are checkpointed by the next round

    def checkpoint(self, pool: Pool) -> None:
        try:
            connection = pool.connect()
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").close()
            finally:
                connection.close()  # back to the pool
            self.checkpoints += 1
        except Exception:  # the backstop still bounds the log; say why this one failed
            logger.exception("background WAL checkpoint failed")


_checkpointers: weakref.WeakKeyDictionary[Pool, WalCheckpointer] = weakref.WeakKeyDictionary()
_checkpointers_lock = threading.Lock()


def wal_checkpointer(engine: Engine) -> WalCheckpointer:
    """The background checkpointer of a SQLite engine's database (one per connection pool)."""
    with _checkpointers_lock:
        checkpointer = _checkpointers.get(engine.pool)
        if checkpointer is None:
            checkpointer = _checkpointers[engine.pool] = WalCheckpointer(engine.pool)
        return checkpointer
