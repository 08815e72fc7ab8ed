"""SQLite's write-ahead log is folded back into the database file by a background thread
(``models.db.WalCheckpointer``), so no submitter's commit pays for it; the log must still reach the
file, the thread must not outlive a quiet database, and a failed round must not stop later ones."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from models.db import WAL_BACKSTOP_PAGES, WalCheckpointer, make_engine, wal_checkpointer, write_session


def _rows_in_database_file(path: Path) -> int:
    """Rows of ``note`` in the database file itself, ignoring the write-ahead log."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as connection:
        try:
            return connection.execute("SELECT count(*) FROM note").fetchone()[0]
        except sqlite3.DatabaseError:
            # The table is still only in the log, or (read as immutable) a page was caught
            # half-written by a checkpoint in progress ("malformed"): not there yet, look again.
            return 0


def _eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def wal_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with write_session(engine) as session:
        session.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    return engine


def test_commits_reach_the_database_file_without_a_writer_checkpointing(
    wal_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "wal.db"
    with wal_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_BACKSTOP_PAGES
    for start in range(0, 600, 200):  # a few hundred pages: far below the writers' backstop
        with write_session(wal_engine) as session:
            session.execute(
                text("INSERT INTO note (body) VALUES (:body)"),
                [{"body": "x" * 2000} for _ in range(start, start + 200)],
            )
    assert _eventually(lambda: _rows_in_database_file(path) == 600)
    assert wal_checkpointer(wal_engine).checkpoints >= 1
    wal_engine.dispose()


def test_the_thread_stops_when_the_database_is_quiet_and_starts_again(wal_engine: Engine) -> None:
    checkpointer = WalCheckpointer(wal_engine.pool, spacing=0.01, idle_seconds=0.1)
    checkpointer.nudge()
    assert _eventually(lambda: checkpointer.checkpoints == 1 and not checkpointer._running)
    checkpointer.nudge()
    assert _eventually(lambda: checkpointer.checkpoints == 2 and not checkpointer._running)
    wal_engine.dispose()


def test_a_failed_round_is_logged_and_the_next_nudge_checkpoints(
    wal_engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer(wal_engine.pool, spacing=0.01, idle_seconds=0.1)
    real_connect = wal_engine.pool.connect
    failures = iter([OSError("disk unplugged")])

    def flaky_connect():  # type: ignore[no-untyped-def]
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_connect()

    monkeypatch.setattr(wal_engine.pool, "connect", flaky_connect)
    checkpointer.nudge()
    assert _eventually(lambda: "background WAL checkpoint failed" in caplog.text)
    assert checkpointer.checkpoints == 0
    checkpointer.nudge()
    assert _eventually(lambda: checkpointer.checkpoints == 1)
    wal_engine.dispose()
