"""Anonymous at rest, tried as someone holding the database files and the participation key.

Forty known people answer one after another (each in a transaction of its own: the worst case),
each with a comment that marks their response. The attacker can name everyone's receipts (they
hold the key) and recognise everyone's response (the markers), and tries every channel that could
pair them: on SQLite the raw bytes of the database file (page order and the order of cells within
a page, deleted copies left in free space and freelist pages) and of the write-ahead log; on
PostgreSQL, as a superuser, ``ctid``, ``xmin`` and the pages' row versions (``pageinspect``);
and the backups ``wellbeing backup`` writes. Before the seal the test shows the link is there;
after it, no channel may pair more than chance would.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel
from typer.testing import CliRunner

from app.cli import cli
from models.at_rest import forget_database, seal, storage_sealer, wait_until_idle
from models.backup import backup
from models.calendar import periods_of_week
from models.db import make_engine, write_session
from models.org import Unit
from models.participation import participation_receipt
from surveys.composition import get_composition
from surveys.submit import prepare_submission, submit_pulse, write_prepared_batch

KEY = b"at-rest-test-key"
WEEK = "2026-W10"  # March 2026, 2026-Q1, 2026: every receipt of these people is new
PEOPLE = 40
# Chance pairs about 1 of 40 responses with its receipt; 8 or more has a probability near 1e-5.
MAX_CHANCE_PAIRS = 8
# Rank correlation with the order of submission: about 0 +- 0.16 by chance; 1 when it leaks.
MAX_CHANCE_CORRELATION = 0.7


@pytest.fixture(autouse=True)
def _no_seal_in_flight() -> None:
    """Sealers of earlier tests' engines (same PostgreSQL database) finish before this one."""
    assert wait_until_idle(60)


def _marker(person: int) -> str:
    """A comment no scrubbing touches, unique to the person (letters only)."""
    letters = "".join("abcdefghijklmnopqrstuvwxyz"[(person // 26**i) % 26] for i in range(3))
    return f"zqmark{letters}zq"


def _team(engine: Engine) -> int:
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Org", kind="organisation")
        session.add(org)
        session.flush()
        team = Unit(code="T", name="Team", kind="team", parent_id=org.id)
        session.add(team)
        session.flush()
        return team.id  # type: ignore[return-value]


def _submission(person: int, team_id: int) -> dict[str, object]:
    return {
        "person_id": person,
        "team_id": team_id,
        "week": WEEK,
        "answers": dict.fromkeys(get_composition("weekly-core").item_ids, 2),
        "comment": _marker(person),
        "participation_key": KEY,
        "composition": "weekly-core",
        "known_names": (),
    }


def _answer_one_by_one(engine: Engine, *, quietly: bool = False) -> None:
    """People 1..PEOPLE answer in that order, one commit each. ``quietly``: straight through the
    batch writer in plain transactions, so no background checkpoint or seal runs meanwhile (the
    state just after the writes, for the tests that show the leak before the seal)."""
    team_id = _team(engine)
    for person in range(1, PEOPLE + 1):
        if not quietly:
            submit_pulse(engine, **_submission(person, team_id))  # type: ignore[arg-type]
            continue
        prepared = prepare_submission(None, **_submission(person, team_id))  # type: ignore[arg-type]
        options = {"sqlite_immediate": True} if engine.dialect.name == "sqlite" else {}
        with engine.execution_options(**options).begin() as connection:
            write_prepared_batch(connection, [prepared])


def _receipt(person: int, kind: str) -> str:
    return participation_receipt(KEY, person, periods_of_week(WEEK)[kind])  # type: ignore[index]


def _rank_correlation(order: Sequence[int]) -> float:
    """Spearman's rho between the order things are stored in and the order people answered in."""
    n = len(order)
    ranks = {person: rank for rank, person in enumerate(sorted(order))}
    d2 = sum((position - ranks[person]) ** 2 for position, person in enumerate(order))
    return 1 - 6 * d2 / (n * (n * n - 1))


def _pairs(responses: Sequence[int], receipts: Sequence[int]) -> int:
    """Pair the i-th response with the i-th receipt in storage order: how many pairs are right?"""
    return sum(a == b for a, b in zip(responses, receipts, strict=True))


def _assert_at_chance(responses: Sequence[int], receipts: dict[str, Sequence[int]]) -> None:
    """No storage order lines responses up with any kind of receipt, or with time."""
    assert sorted(responses) == list(range(1, PEOPLE + 1))
    assert abs(_rank_correlation(responses)) < MAX_CHANCE_CORRELATION
    for kind, order in receipts.items():
        assert sorted(order) == list(range(1, PEOPLE + 1)), kind
        assert abs(_rank_correlation(order)) < MAX_CHANCE_CORRELATION, kind
        assert _pairs(responses, order) < MAX_CHANCE_PAIRS, kind
        assert _pairs(list(reversed(responses)), order) < MAX_CHANCE_PAIRS, kind


# ---------------------------------------------------------------------------------------------
# SQLite: the raw file and its write-ahead log
# ---------------------------------------------------------------------------------------------


def _occurrences(data: bytes, needle: str) -> list[int]:
    found, start = [], 0
    while (at := data.find(needle.encode(), start)) >= 0:
        found.append(at)
        start = at + 1
    return found


def _file_order(data: bytes, needle_of: Callable[[int], str]) -> list[int]:
    """People in the order their rows sit in the file: by page, then by place in the page. Every
    row must be there exactly once: no copy left in free space, freed cells or freelist pages."""
    places = {}
    for person in range(1, PEOPLE + 1):
        found = _occurrences(data, needle_of(person))
        assert len(found) == 1, f"person {person}: {len(found)} copies of {needle_of(person)}"
        places[person] = found[0]
    return sorted(places, key=places.__getitem__)


def _within_page_agreement(data: bytes, order: Sequence[int], page_size: int = 4096) -> float:
    """Of the pairs of rows on the same page, the share whose place in the page agrees with the
    order they were answered in (cells are placed below the last one: 0 or 1 when that leaks,
    about a half when it does not)."""
    places = {person: data.find(_marker(person).encode()) for person in order}
    agree = total = 0
    for a in order:
        for b in order:
            if a < b and places[a] // page_size == places[b] // page_size:
                total += 1
                agree += places[a] < places[b]
    return agree / total if total else 0.5


def _raw_orders(data: bytes) -> tuple[list[int], dict[str, list[int]]]:
    responses = _file_order(data, _marker)
    receipts = {
        kind: _file_order(data, lambda person, kind=kind: _receipt(person, kind))
        for kind in ("week", "month", "quarter", "year")
    }
    return responses, receipts


def _sqlite_files(engine: Engine) -> tuple[bytes, Path]:
    path = Path(make_url(str(engine.url)).database or "")
    return path.read_bytes(), path.with_name(path.name + "-wal")


def test_sqlite_file_and_log_link_nothing_once_sealed(sqlite_engine: Engine) -> None:
    _answer_one_by_one(sqlite_engine, quietly=True)
    data, wal = _sqlite_files(sqlite_engine)
    log = wal.read_bytes()
    # Before the seal the log alone lists the answers in the order they were committed.
    first_seen = {person: log.find(_marker(person).encode()) for person in range(1, PEOPLE + 1)}
    assert all(at >= 0 for at in first_seen.values())
    assert _rank_correlation(sorted(first_seen, key=first_seen.__getitem__)) > 0.9

    report = seal(sqlite_engine)
    assert report.complete and report.weeks == (WEEK,)
    assert (report.responses, report.receipts) == (PEOPLE, 4 * PEOPLE)
    data, wal = _sqlite_files(sqlite_engine)
    assert not wal.exists() or wal.stat().st_size == 0  # no frame, old or new
    responses, receipts = _raw_orders(data)
    _assert_at_chance(responses, receipts)
    assert abs(_within_page_agreement(data, responses) - 0.5) < 0.3
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1
        assert connection.exec_driver_sql("PRAGMA freelist_count").scalar_one() >= 0
        rowids = [
            row[0]
            for row in connection.exec_driver_sql("SELECT comment FROM pulse_response ORDER BY rowid")
        ]
        assert connection.exec_driver_sql("SELECT count(*) FROM unsealed_week").scalar_one() == 0
    by_rowid = [int(next(p for p in range(1, PEOPLE + 1) if _marker(p) == c)) for c in rowids]
    _assert_at_chance(by_rowid, receipts)


def test_sqlite_backup_is_a_fresh_file_that_links_nothing(sqlite_engine: Engine, tmp_path: Path) -> None:
    _answer_one_by_one(sqlite_engine, quietly=True)
    target = tmp_path / "backup.db"
    result = CliRunner().invoke(cli, ["backup", str(target), "--database-url", str(sqlite_engine.url)])
    assert result.exit_code == 0, result.output
    assert not target.with_name("backup.db-wal").exists()
    data = target.read_bytes()
    responses, receipts = _raw_orders(data)
    _assert_at_chance(responses, receipts)
    copy = make_engine(f"sqlite:///{target}")
    with copy.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM pulse_response").scalar_one() == PEOPLE
        assert connection.exec_driver_sql("PRAGMA freelist_count").scalar_one() == 0
    copy.dispose()
    refused = CliRunner().invoke(cli, ["backup", str(target), "--database-url", str(sqlite_engine.url)])
    assert refused.exit_code == 1 and "exists" in refused.output


# ---------------------------------------------------------------------------------------------
# PostgreSQL: system columns and row versions, as a superuser
# ---------------------------------------------------------------------------------------------


def _postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL system columns")


def _people_by(engine: Engine, order_by: str) -> tuple[list[int], dict[str, list[int]]]:
    """People in the order of a system column, for responses and for each kind of receipt."""
    markers = {_marker(person): person for person in range(1, PEOPLE + 1)}
    receipts_of = {
        kind: {_receipt(person, kind): person for person in range(1, PEOPLE + 1)}
        for kind in ("week", "month", "quarter", "year")
    }
    with engine.connect() as connection:
        responses = [
            markers[row[0]]
            for row in connection.execute(
                text(f"SELECT comment FROM pulse_response ORDER BY {order_by}")
            )
        ]
        stored = [
            row[0]
            for row in connection.execute(
                text(f"SELECT receipt FROM participation_receipt ORDER BY {order_by}")
            )
        ]
    receipts = {kind: [by[r] for r in stored if r in by] for kind, by in receipts_of.items()}
    return responses, receipts


def _row_versions(engine: Engine, table: str) -> list[tuple[int, str | None]]:
    """Every line pointer of every page of ``table``: (lp_flags, t_xmin), read from the pages."""
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        pages = connection.execute(
            text("SELECT pg_relation_size(:t) / current_setting('block_size')::int"), {"t": table}
        ).scalar_one()
        found: list[tuple[int, str | None]] = []
        for page in range(int(pages)):
            found.extend(
                (int(flags), None if xmin is None else str(xmin))
                for flags, xmin in connection.execute(
                    text("SELECT lp_flags, t_xmin FROM heap_page_items(get_raw_page(:t, :p))"),
                    {"t": table, "p": page},
                )
            )
    return found


def test_postgres_system_columns_and_row_versions_link_nothing_once_sealed(engine: Engine) -> None:
    _postgres(engine)
    _answer_one_by_one(engine, quietly=True)
    # Before the seal: heap order is answer order, and a response shares its receipts' xmin.
    responses, receipts = _people_by(engine, "ctid")
    assert responses == list(range(1, PEOPLE + 1))
    by_xmin, receipts_by_xmin = _people_by(engine, "xmin::text::bigint, ctid")
    assert _pairs(by_xmin, receipts_by_xmin["week"]) == PEOPLE

    report = seal(engine)
    assert report.complete and report.weeks == (WEEK,)
    responses, receipts = _people_by(engine, "ctid")
    _assert_at_chance(responses, receipts)
    with engine.connect() as connection:
        xmins = {
            row[0]
            for table in ("pulse_response", "participation_receipt")
            for row in connection.execute(text(f"SELECT xmin::text FROM {table}"))
        }
    assert len(xmins) == 1  # the seal wrote every row: one transaction id says nothing
    for table in ("pulse_response", "participation_receipt"):
        versions = _row_versions(engine, table)
        assert all(flags in (0, 1) for flags, _ in versions), f"{table}: dead or redirected rows"
        assert {xmin for flags, xmin in versions if flags == 1} == xmins, table


def test_postgres_seal_says_when_an_open_snapshot_keeps_old_rows(engine: Engine) -> None:
    """A transaction open since before the seal can still see the old row versions, so VACUUM
    must keep them: the seal reports itself incomplete, and a later one finishes."""
    _postgres(engine)
    _answer_one_by_one(engine, quietly=True)
    reader = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    reader.begin()
    reader.execute(text("SELECT count(*) FROM pulse_response")).scalar_one()
    try:
        assert not seal(engine).complete
    finally:
        reader.rollback()
        reader.close()
    assert seal(engine).complete
    for table in ("pulse_response", "participation_receipt"):
        assert all(flags in (0, 1) for flags, _ in _row_versions(engine, table))


def test_postgres_backup_rows_are_in_no_linking_order(engine: Engine, tmp_path: Path) -> None:
    _postgres(engine)
    _answer_one_by_one(engine, quietly=True)
    target = tmp_path / "backup.dump"
    backup(engine, target)
    url = make_url(str(engine.url)).set(drivername="postgresql").render_as_string(hide_password=False)
    rows: dict[str, list[str]] = {}
    for table in ("pulse_response", "participation_receipt"):
        dumped = subprocess.run(
            ["pg_restore", "--data-only", f"--table={table}", "--file=-", str(target)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows[table] = [line for line in dumped.splitlines() if "\t" in line]
    assert url  # (the dump was made from this database)
    markers = {_marker(person): person for person in range(1, PEOPLE + 1)}
    responses = [next(markers[m] for m in markers if m in line) for line in rows["pulse_response"]]
    receipts = {
        kind: [
            person
            for line in rows["participation_receipt"]
            for person in range(1, PEOPLE + 1)
            if _receipt(person, kind) in line
        ]
        for kind in ("week", "month", "quarter", "year")
    }
    _assert_at_chance(responses, receipts)


# ---------------------------------------------------------------------------------------------
# Both: the server seals by itself, soon after submissions
# ---------------------------------------------------------------------------------------------


def test_submissions_are_sealed_by_the_background_sealer(engine: Engine) -> None:
    _answer_one_by_one(engine)  # through submit_pulse, as the server does
    deadline = time.monotonic() + 30
    sealer = storage_sealer(engine)
    with engine.connect() as connection:
        # Sealed means: the sealer has run, and nothing is left marked unsealed.
        while (
            sealer.seals < 1
            or connection.execute(text("SELECT count(*) FROM unsealed_week")).scalar_one()
        ):
            assert time.monotonic() < deadline, "not sealed within 30 s"
            connection.commit()
            time.sleep(0.2)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pulse_response")).scalar_one() == PEOPLE
        kinds = connection.execute(text("SELECT count(*) FROM participation_receipt")).scalar_one()
    assert kinds == 4 * PEOPLE


def test_a_forgotten_database_is_not_sealed_again(sqlite_engine: Engine) -> None:
    """A database about to be dropped is forgotten: its waiting seal is dropped (no warning at
    exit for a database that is gone), and a later engine on it gets a new sealer."""
    sealer = storage_sealer(sqlite_engine)
    sealer.quiet = sealer.within = 3600.0  # a nudge that would wait an hour
    sealer.nudge()
    forget_database(sqlite_engine.url.database or "")
    assert wait_until_idle(10)
    sealer.seal_if_pending()  # what the exit hook would do: nothing is pending any more
    assert sealer.seals == 0
    assert storage_sealer(sqlite_engine) is not sealer


def test_an_unsealed_week_is_sealed_by_the_command(engine: Engine) -> None:
    _answer_one_by_one(engine, quietly=True)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["seal", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"{PEOPLE} responses, {4 * PEOPLE} receipts rewritten" in result.output
    again = CliRunner().invoke(cli, ["seal", "--database-url", url])
    assert again.exit_code == 0 and "Sealed 0 week(s)" in again.output


def test_sealing_keeps_every_row_and_value(engine: Engine) -> None:
    _answer_one_by_one(engine, quietly=True)

    def everything() -> dict[str, list[tuple[object, ...]]]:
        with engine.connect() as connection:
            return {
                table: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}")))
                for table in ("pulse_response", "participation_receipt", "team_week_score")
            }

    before = everything()
    seal(engine)
    assert everything() == before
    assert dataclasses.is_dataclass(seal(engine))


def test_a_process_that_submits_and_exits_leaves_nothing_unsealed(tmp_path: Path) -> None:
    """A script (or a server) that ends right after submitting seals on its way out."""
    path = tmp_path / "exit.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    team_id = _team(engine)
    engine.dispose()
    script = (
        "from models.db import make_engine\n"
        "from surveys.submit import submit_pulse\n"
        "from tests.test_at_rest import PEOPLE, _submission\n"
        f"engine = make_engine({url!r})\n"
        "for person in range(1, PEOPLE + 1):\n"
        f"    submit_pulse(engine, **_submission(person, {team_id}))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parent.parent)
    wal = path.with_name("exit.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    data = path.read_bytes()
    responses, receipts = _raw_orders(data)
    _assert_at_chance(responses, receipts)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM unsealed_week").scalar_one() == 0
    engine.dispose()
