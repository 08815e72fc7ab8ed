"""The benchmark's concurrent submitters: rounds of ``SUBMITTERS`` new people who answer the
pulse through ``submit_pulse`` from their own threads, released in the same instant or spread over
a few seconds, and the reference round that does everything a submission does but write.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.bench_org import COMMENTS, BenchOrg, BenchPlan
from models.db import read_session, write_session
from models.group_commit import GroupWriter
from models.org import Person
from models.pulse import ParticipationReceipt
from surveys.composition import DEFAULT_COMPOSITION_ID, get_composition
from surveys.submit import (
    PreparedSubmission,
    SubmissionResult,
    participation_receipt,
    prepare_with_engine,
    submit_pulse,
)

SUBMITTERS = 200
SUBMIT_BURSTS = 3
PACED_SECONDS = 2.0  # the paced rounds: 200 submitters starting evenly over 2 s (100 per second)


@dataclass(frozen=True)
class Submitters:
    """One round's new people: their ids and teams (a different team each, where possible)."""

    person_ids: list[int]
    teams: list[int]


def add_submitters(engine: Engine, org: BenchOrg, rounds: int) -> list[Submitters]:
    """``SUBMITTERS`` new people for each round, all added before the first: on a Monday morning
    the people table holds still while staff answer. (Added just before each round, they made
    every round's first commented submission look the table over for new names, which is what
    a new starter costs once, not what a burst costs.)"""
    token = uuid.uuid4().hex[:8]
    teams = [org.team_ids[i % len(org.team_ids)] for i in range(SUBMITTERS)]
    emails = [
        [f"submitter-{token}-{round_}-{i:03d}@bench.invalid" for i in range(SUBMITTERS)]
        for round_ in range(rounds)
    ]
    with write_session(engine) as session:
        session.execute(
            insert(Person),
            [
                {"email": email, "display_name": f"Submitter {i}", "team_id": team}
                for round_emails in emails
                for i, (email, team) in enumerate(zip(round_emails, teams, strict=True))
            ],
        )
        ids = dict(
            session.execute(
                select(Person.email, Person.id).where(Person.email.like(f"submitter-{token}-%"))
            ).all()
        )
    return [Submitters([ids[email] for email in round_emails], teams) for round_emails in emails]


def run_submitters(
    engine: Engine,
    plan: BenchPlan,
    submitters: Submitters,
    key: bytes,
    burst: int,
    spread_seconds: float = 0.0,
    submit_with: Callable[..., Any] = submit_pulse,
) -> dict[str, Any]:
    """The round's people submit through ``submit_pulse`` (or ``submit_with``, called the same
    way) from their own threads; latency per submission.

    ``spread_seconds=0``: all released in the same instant by a barrier (the worst case). Otherwise
    their start times are spread evenly over that many seconds (a busy Monday morning)."""
    composition = get_composition(DEFAULT_COMPOSITION_ID)
    person_ids, teams = submitters.person_ids, submitters.teams
    rng = np.random.default_rng([plan.seed, 5, burst])
    answers = [
        {item.id: int(rng.integers(item.scale.min, item.scale.max + 1)) for _, item in composition.items}
        for _ in range(SUBMITTERS)
    ]
    commented = rng.random(SUBMITTERS) < 0.04
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        barrier.wait()  # every thread is ready; the barrier's action noted the common start
        if spread_seconds:
            time.sleep(max(0.0, starts[0] + spread_seconds * i / SUBMITTERS - time.perf_counter()))
        started = time.perf_counter()
        try:
            submit_with(
                engine,
                person_id=person_ids[i],
                team_id=teams[i],
                week=plan.submit_week,
                answers=answers[i],
                days_home=2,
                days_office=3,
                days_site=0,
                comment=COMMENTS[i % len(COMMENTS)] if commented[i] else None,
                participation_key=key,
                composition=composition,
            )
        except Exception as error:  # noqa: BLE001  (counted and reported, never hidden)
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
            return
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)

    starts: list[float] = []
    barrier = threading.Barrier(SUBMITTERS, action=lambda: starts.append(time.perf_counter()))
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(SUBMITTERS)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    receipts = [participation_receipt(key, pid, plan.submit_week) for pid in person_ids]
    with read_session(engine) as session:
        stored = int(
            session.exec(
                select(func.count())
                .select_from(ParticipationReceipt)
                .where(ParticipationReceipt.period == plan.submit_week)
                .where(ParticipationReceipt.receipt.in_(receipts))  # type: ignore[attr-defined]
            ).one()
        )
    return {
        "sent": SUBMITTERS,
        "stored": stored,
        "errors": errors,
        "latencies": latencies,
        "wall_s": wall,
    }


def _write_nothing(_connection: Any, prepared: Sequence[PreparedSubmission]) -> list[SubmissionResult]:
    """What ``write_prepared_batch`` returns for a batch it stored, storing nothing."""
    return [submission.result() for submission in prepared]


def submitting_without_writing(engine: Engine) -> Callable[..., SubmissionResult]:
    """The reference for the same-instant burst, as the bare GROUP BY is for the HR overview:
    ``submit_pulse`` with only its SQL left out. Each submission is prepared as ``submit_pulse``
    prepares it and goes through a group-commit writer of its own (leader, queue, connection,
    hand-over), whose batches write nothing. 200 threads released at once share one interpreter
    lock, and a thread that waits for another (the writer gives the lock up at its first database
    call, and gets it back behind every thread queued for it) waits for most of the burst to
    arrive: this p95 is what that costs on the machine, and the burst's p95 minus it is what
    writing costs."""
    writer: GroupWriter[PreparedSubmission, SubmissionResult] = GroupWriter(engine, _write_nothing)

    def submit(engine: Engine, **submission: Any) -> SubmissionResult:
        return writer.write(prepare_with_engine(engine, **submission))

    return submit
