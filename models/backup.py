"""Backups that keep the pulse anonymous at rest (``wellbeing backup``).

A copy of the live files would carry whatever the live files carry at that moment (on SQLite the
write-ahead log, free pages and the cell order of rows not yet sealed). So a backup is never a
file copy:

- SQLite: ``VACUUM INTO`` a new file, from one read snapshot. It is a fresh database built by
  copying each table in key order (responses by their random rowids, receipts by their random
  HMACs), with no write-ahead log, no free pages and nothing deleted in it: its layout says
  nothing about when rows were written, sealed or not. The storage is sealed first anyway.
- PostgreSQL: ``pg_dump`` (custom format), which writes each table's rows in heap order and no
  system columns. Heap order is only random once sealed, so the dump runs in a snapshot exported
  by a transaction that has checked that no week is unsealed in it (sealing first, and again if a
  submission came in between).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from models.at_rest import seal

SNAPSHOT_ATTEMPTS = 10


class BackupError(RuntimeError):
    """The backup was not written (the message says why)."""


def backup(engine: Engine, target: Path) -> None:
    """Write a backup of the database to ``target`` (a new file; an existing one is refused)."""
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    seal(engine)
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside any transaction, as VACUUM requires
        try:
            raw.cursor().execute("VACUUM INTO ?", (str(target),)).close()
        finally:
            raw.close()
        return
    _dump_postgres(engine, target)


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as ``pg_dump`` takes it, and its environment (the password goes there, not on
    the command line, where every user of the machine could read it)."""
    url = make_url(engine.url).set(drivername="postgresql")
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
        url = url.set(password=None)
    return url.render_as_string(hide_password=False), environment


def _dump_postgres(engine: Engine, target: Path) -> None:
    database, environment = _libpq(engine)
    for _ in range(SNAPSHOT_ATTEMPTS):
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            with connection.begin():
                snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                unsealed = connection.exec_driver_sql("SELECT count(*) FROM unsealed_week").scalar_one()
                if not unsealed:
                    done = subprocess.run(  # noqa: S603  (fixed program, arguments from our settings)
                        [
                            "pg_dump",
                            "--format=custom",
                            f"--snapshot={snapshot}",
                            f"--file={target}",
                            f"--dbname={database}",
                        ],
                        env=environment,
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if done.returncode != 0:
                        target.unlink(missing_ok=True)
                        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
                    return
        seal(engine)  # a submission came in between: seal it too, then take a new snapshot
    raise BackupError("the pulse storage kept changing; try again when submissions pause")
