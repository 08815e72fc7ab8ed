"""Group commit (``models.group_commit``): submissions arriving together share one transaction, and
each submitter still gets its own answer: its result, "already answered", or its own error, never
another's. A bad item in a batch must not lose the others (both backends)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from test_submit import make_org

from models.db import read_session, write_session
from models.group_commit import GroupWriter
from models.pulse import ParticipationReceipt, PulseResponse, TeamWeekResponses
from surveys.composition import get_composition
from surveys.submit import (
    AlreadyAnswered,
    PreparedSubmission,
    SubmissionError,
    SubmissionResult,
    prepare_submission,
    write_prepared_batch,
)

KEY = b"group-commit-key"
WEEK = "2026-W21"


def _team(engine: Engine) -> int:
    return make_org(engine, people=0)["team"]


def _prepared(engine: Engine, team_id: int, person_id: int, level: int = 3) -> PreparedSubmission:
    composition = get_composition("weekly-core")
    with read_session(engine) as session:
        return prepare_submission(
            session,
            person_id=person_id,
            team_id=team_id,
            week=WEEK,
            answers=dict.fromkeys(composition.item_ids, level),
            participation_key=KEY,
            composition=composition,
            known_names=(),
        )


def _stored(engine: Engine) -> tuple[int, int, int]:
    with read_session(engine) as session:
        responses = session.exec(select(func.count()).select_from(PulseResponse)).one()
        receipts = session.exec(  # the week's: one per answer (longer periods' are per person)
            select(func.count()).where(ParticipationReceipt.period == WEEK)
        ).one()
        weekly = session.exec(select(func.coalesce(func.sum(TeamWeekResponses.n), 0))).one()
    return int(responses), int(receipts), int(weekly)


def test_a_batch_with_the_same_person_twice_stores_the_first_only(engine: Engine) -> None:
    team_id = _team(engine)
    first, again, other = (
        _prepared(engine, team_id, pid, level) for pid, level in ((1, 5), (1, 1), (2, 3))
    )
    with write_session(engine) as session:
        outcomes = write_prepared_batch(session.connection(), [first, again, other])
    assert isinstance(outcomes[0], SubmissionResult) and isinstance(outcomes[2], SubmissionResult)
    assert isinstance(outcomes[1], AlreadyAnswered)
    assert _stored(engine) == (2, 2, 2)
    with read_session(engine) as session:  # the first answer (all 5s) is the one kept
        best = session.execute(
            text("SELECT MAX(score) FROM pulse_score WHERE construct_id = 'wellbeing'")
        )
        assert best.scalar_one() == outcomes[0].scores["wellbeing"]


def test_a_row_the_database_refuses_fails_alone_and_the_batch_is_kept(engine: Engine) -> None:
    """The batch's transaction fails on a CHECK constraint (a submission that skipped the checks);
    every other submission is retried in a transaction of its own and stored, and only the bad
    one sees the error."""
    team_id = _team(engine)
    good = [_prepared(engine, team_id, person_id) for person_id in range(1, 6)]
    bad = dataclasses.replace(_prepared(engine, team_id, 99), days=(9, None, None))
    batch = [*good[:2], bad, *good[2:]]
    writer: GroupWriter[PreparedSubmission, SubmissionResult] = GroupWriter(engine, write_prepared_batch)
    started = threading.Event()
    release = threading.Event()

    def slow_batch(connection: Connection, items: Sequence[PreparedSubmission]):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(5)
        return write_prepared_batch(connection, items)

    writer.write_batch = slow_batch  # the first writer holds the lead until all others queued
    with ThreadPoolExecutor(max_workers=len(batch)) as pool:
        leader = pool.submit(writer.write, good[0])
        assert started.wait(5)
        others = [pool.submit(writer.write, item) for item in batch[1:]]
        time.sleep(0.2)  # let them queue behind the leader
        release.set()
        results = [leader.result(10)]
        errors: list[BaseException] = []
        for future in others:
            try:
                results.append(future.result(10))
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    assert len(results) == 5 and all(isinstance(r, SubmissionResult) for r in results)
    assert _stored(engine) == (5, 5, 5)
    # The failed batch's connection was discarded and the idle writer holds none: the next
    # submission is written on a fresh one.
    assert engine.pool.checkedout() == 0
    writer.write_batch = write_prepared_batch
    assert isinstance(writer.write(_prepared(engine, team_id, 100)), SubmissionResult)
    assert _stored(engine) == (6, 6, 6) and engine.pool.checkedout() == 0


def test_a_team_removed_after_the_check_is_refused_in_the_batch(engine: Engine) -> None:
    team_id = _team(engine)
    kept = _prepared(engine, team_id, 1)
    gone = dataclasses.replace(_prepared(engine, team_id, 2), team_id=team_id + 1000)
    with write_session(engine) as session:
        outcomes = write_prepared_batch(session.connection(), [gone, kept])
    assert isinstance(outcomes[0], SubmissionError) and "does not exist" in str(outcomes[0])
    assert isinstance(outcomes[1], SubmissionResult)
    assert _stored(engine) == (1, 1, 1)


def test_a_batch_tells_an_earlier_answer_from_a_missing_team(engine: Engine) -> None:
    """Each refused submission gets its own reason, whichever way the batch claims its receipts
    (PostgreSQL: one statement, then a look at the teams of those it could not claim)."""
    team_id = _team(engine)
    with write_session(engine) as session:
        write_prepared_batch(session.connection(), [_prepared(engine, team_id, 1)])
    answered_before = _prepared(engine, team_id, 1)
    lost_team = dataclasses.replace(_prepared(engine, team_id, 2), team_id=team_id + 1000)
    new = _prepared(engine, team_id, 3)
    with write_session(engine) as session:
        outcomes = write_prepared_batch(session.connection(), [answered_before, lost_team, new])
    assert isinstance(outcomes[0], AlreadyAnswered)
    assert isinstance(outcomes[1], SubmissionError) and "does not exist" in str(outcomes[1])
    assert not isinstance(outcomes[1], AlreadyAnswered)
    assert isinstance(outcomes[2], SubmissionResult)
    assert _stored(engine) == (2, 2, 2)


def test_the_same_person_twice_whose_first_team_is_gone_is_stored_once(engine: Engine) -> None:
    team_id = _team(engine)
    gone = dataclasses.replace(_prepared(engine, team_id, 1), team_id=team_id + 1000)
    kept = _prepared(engine, team_id, 1)
    with write_session(engine) as session:
        outcomes = write_prepared_batch(session.connection(), [gone, kept])
    assert isinstance(outcomes[0], SubmissionError) and not isinstance(outcomes[0], AlreadyAnswered)
    assert isinstance(outcomes[1], SubmissionResult)
    assert _stored(engine) == (1, 1, 1)


def test_every_waiting_thread_gets_its_own_result_across_many_small_batches() -> None:
    """Leadership passes from batch to batch: nobody waits forever and nobody gets another's
    result, even with batches far smaller than the queue."""

    class _NoDatabase:  # the batch function needs no connection here
        pass

    seen_batches: list[int] = []

    def double(_connection: object, items: Sequence[int]) -> list[int | Exception]:
        seen_batches.append(len(items))
        time.sleep(0.002)
        return [ValueError(f"odd {item}") if item % 7 == 0 else item * 2 for item in items]

    writer: GroupWriter[int, int] = GroupWriter(_NoDatabase(), double, max_batch=5)  # type: ignore[arg-type]
    writer._write = _without_transaction(writer, double)  # type: ignore[method-assign]
    count = 120
    barrier = threading.Barrier(count)

    def one(item: int) -> int | str:
        barrier.wait()
        try:
            return writer.write(item)
        except ValueError as error:
            return str(error)

    with ThreadPoolExecutor(max_workers=count) as pool:
        outcomes = list(pool.map(one, range(count), timeout=30))
    assert outcomes == [f"odd {i}" if i % 7 == 0 else i * 2 for i in range(count)]
    assert sum(seen_batches) == count and max(seen_batches) <= 5
    assert len(seen_batches) < count  # threads that arrived together shared batches


def test_items_arriving_while_the_leader_gathers_join_its_batch() -> None:
    """A burst is written as one batch: the leader waits while items keep arriving (each within
    ``quiet_seconds`` of the last), instead of writing its own at once."""
    seen: list[list[int]] = []

    def record(_connection: object, items: Sequence[int]) -> list[int | Exception]:
        seen.append(list(items))
        return list(items)

    writer: GroupWriter[int, int] = GroupWriter(
        object(),  # type: ignore[arg-type]
        record,
        quiet_seconds=0.5,
        gather_seconds=5.0,
    )
    writer._write = _without_transaction(writer, record)  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(writer.write, 1)]
        for item in (2, 3):
            time.sleep(0.02)
            futures.append(pool.submit(writer.write, item))
        assert [future.result(10) for future in futures] == [1, 2, 3]
    assert seen == [[1, 2, 3]]


def _without_transaction(writer: GroupWriter, batch_function):  # type: ignore[no-untyped-def]
    """The writer's own ``_write`` minus the database transaction (for the pure queueing test)."""

    def write(batch):  # type: ignore[no-untyped-def]
        outcomes = batch_function(None, [pending.item for pending in batch])
        for pending, outcome in zip(batch, outcomes, strict=True):
            writer._finish(pending, outcome)

    return write


@pytest.mark.parametrize("submitters", [60])
def test_submissions_arriving_together_share_transactions(engine: Engine, submitters: int) -> None:
    team_id = _team(engine)
    prepared = [_prepared(engine, team_id, person_id) for person_id in range(submitters)]
    writer: GroupWriter[PreparedSubmission, SubmissionResult] = GroupWriter(engine, write_prepared_batch)
    barrier = threading.Barrier(submitters)

    def one(item: PreparedSubmission) -> SubmissionResult:
        barrier.wait()
        return writer.write(item)

    with ThreadPoolExecutor(max_workers=submitters) as pool:
        results = list(pool.map(one, prepared, timeout=60))
    assert len(results) == submitters
    assert _stored(engine) == (submitters, submitters, submitters)
    assert writer.batches < submitters  # fewer commits than submissions


def test_a_batch_is_stored_in_an_order_unrelated_to_its_submitters(engine: Engine) -> None:
    """Within one transaction, storage order (SQLite rowid; PostgreSQL heap position, before the
    storage is sealed) of responses and of receipts is shuffled independently: neither follows the
    order the 40 submissions arrived in (a chance of 1 in 40! each of failing by luck). SQLite
    stores receipts by their key alone (no rowid), so in the random order of their HMACs."""
    team_id = _team(engine)
    count = 40
    composition = get_composition("weekly-core")
    batch = []
    with read_session(engine) as session:
        for person_id in range(count):
            batch.append(
                prepare_submission(
                    session,
                    person_id=person_id,
                    team_id=team_id,
                    week=WEEK,
                    answers=dict.fromkeys(composition.item_ids, 3),
                    comment=f"note {person_id:02d}",
                    participation_key=KEY,
                    composition=composition,
                    known_names=(),
                )
            )
    with write_session(engine) as session:
        write_prepared_batch(session.connection(), batch)
    position = "rowid" if engine.dialect.name == "sqlite" else "ctid"
    with read_session(engine) as session:
        comments = session.execute(
            text(f"SELECT comment FROM pulse_response ORDER BY {position}")
        ).scalars()
        in_storage_order = "" if engine.dialect.name == "sqlite" else " ORDER BY ctid"
        receipts = session.execute(
            text(f"SELECT receipt FROM participation_receipt WHERE period = :week{in_storage_order}"),
            {"week": WEEK},
        ).scalars()
        arrival = [f"note {i:02d}" for i in range(count)]
        stored_comments = list(comments)  # and their answers: they are in the same rows
        assert sorted(stored_comments) == arrival and stored_comments != arrival
        stored_receipts = list(receipts)
        assert sorted(stored_receipts) == sorted(p.receipt for p in batch)
        assert stored_receipts != [p.receipt for p in batch]
        assert [arrival.index(c) for c in stored_comments] != [  # and not the same shuffle
            [p.receipt for p in batch].index(r) for r in stored_receipts
        ]
