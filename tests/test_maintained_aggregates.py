"""The maintained weekly aggregates stay equal to a from-scratch recomputation, whatever arrives.

Dashboards read ``team_week_score`` / ``team_week_responses`` instead of the responses, so a
drift between the two would silently show wrong figures. These tests recompute the sums with a
GROUP BY over every stored score (the view ``pulse_score``) after seeded random submissions (some
concurrent, some refused), on SQLite and PostgreSQL; and they check that the benchmark's bulk
loader stores exactly what the same answers submitted one by one through ``submit_pulse`` store.
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app.bench_build import build
from app.bench_org import BenchPlan, create_structure, synthetic_chunks
from models.base import iso_week, week_monday
from models.db import write_session
from models.org import Person, Unit
from surveys.composition import get_composition
from surveys.submit import AlreadyAnswered, SubmissionError, submit_pulse

KEY = b"test-participation-key-for-aggregates"
RECOMPUTED_SCORES = text(  # over the view of every stored score (one row per response and construct)
    "SELECT team_id, week, construct_id, work_pattern, COUNT(*), SUM(score), SUM(score * score) "
    "FROM pulse_score GROUP BY team_id, week, construct_id, work_pattern"
)
MAINTAINED_SCORES = text(
    "SELECT team_id, week, construct_id, work_pattern, n, total, total_sq "
    "FROM team_week_score WHERE n > 0"
)
RECOMPUTED_RESPONSES = text(
    "SELECT team_id, week, COUNT(*), "
    "SUM(CASE WHEN comment IS NOT NULL AND comment <> '' THEN 1 ELSE 0 END) "
    "FROM pulse_response GROUP BY team_id, week"
)
MAINTAINED_RESPONSES = text("SELECT team_id, week, n, comments FROM team_week_responses WHERE n > 0")


def _small_org(engine: Engine, teams: int, people: int) -> tuple[list[int], dict[int, list[int]]]:
    with write_session(engine) as session:
        root = Unit(code="org", name="Test council", kind="organisation")
        session.add(root)
        session.flush()
        team_units = [
            Unit(code=f"t{t}", name=f"Team {t}", kind="team", parent_id=root.id) for t in range(teams)
        ]
        session.add_all(team_units)
        session.flush()
        members: dict[int, list[int]] = {}
        for unit in team_units:
            people_here = [
                Person(
                    email=f"p{unit.id}-{p}@example.org",
                    display_name=f"Alex Person{unit.id}x{p}",
                    team_id=unit.id,
                )
                for p in range(people)
            ]
            session.add_all(people_here)
            session.flush()
            members[int(unit.id)] = [int(person.id) for person in people_here]  # type: ignore[arg-type]
        return [int(unit.id) for unit in team_units], members  # type: ignore[arg-type]


def _random_submission(rng: random.Random, team_id: int, person_id: int, week: str) -> dict:
    composition = get_composition()
    answers = {item.id: rng.randint(item.scale.min, item.scale.max) for _, item in composition.items}
    days = rng.choice(
        [(None, None, None), (5, 0, 0), (2, 3, 0), (0, 5, 0), (0, 1, 4), (1, 1, 1), (0, 0, 0)]
    )
    comment = rng.choice(
        [None, None, None, "Fine week.", "   ", "Email me at a.b@example.org", "Alex was great"]
    )
    return {
        "person_id": person_id,
        "team_id": team_id,
        "week": week,
        "answers": answers,
        "days_home": days[0],
        "days_office": days[1],
        "days_site": days[2],
        "comment": comment,
        "participation_key": KEY,
    }


def _assert_maintained_equal_recomputed(engine: Engine) -> int:
    with engine.connect() as connection:
        recomputed = {tuple(row[:4]): row[4:] for row in connection.execute(RECOMPUTED_SCORES)}
        maintained = {tuple(row[:4]): row[4:] for row in connection.execute(MAINTAINED_SCORES)}
        recomputed_responses = {
            tuple(row[:2]): tuple(row[2:]) for row in connection.execute(RECOMPUTED_RESPONSES)
        }
        maintained_responses = {
            tuple(row[:2]): tuple(row[2:]) for row in connection.execute(MAINTAINED_RESPONSES)
        }
    assert maintained.keys() == recomputed.keys()
    for cell, (n, total, total_sq) in recomputed.items():
        kept_n, kept_total, kept_total_sq = maintained[cell]
        assert kept_n == n, cell
        assert math.isclose(kept_total, total, rel_tol=1e-9, abs_tol=1e-9), cell
        assert math.isclose(kept_total_sq, total_sq, rel_tol=1e-9, abs_tol=1e-9), cell
    assert {cell: (int(n), int(c)) for cell, (n, c) in maintained_responses.items()} == {
        cell: (int(n), int(c)) for cell, (n, c) in recomputed_responses.items()
    }
    return sum(int(n) for n, _ in recomputed_responses.values())


@pytest.mark.parametrize("seed", [11, 29])
def test_maintained_aggregates_equal_a_recomputation_after_random_submissions(
    engine: Engine, seed: int
) -> None:
    rng = random.Random(seed)
    team_ids, members = _small_org(engine, teams=4, people=8)
    weeks = [iso_week(week_monday("2026-W10") + timedelta(weeks=w)) for w in range(3)]
    accepted = refused = 0
    for week in weeks:
        for team_id in team_ids:
            for person_id in rng.sample(members[team_id], k=rng.randint(0, len(members[team_id]))):
                submission = _random_submission(rng, team_id, person_id, week)
                if rng.random() < 0.1:  # a bad answer: refused, nothing stored
                    submission["answers"]["who5_1"] = 9
                try:
                    submit_pulse(engine, **submission)
                except SubmissionError:
                    refused += 1
                    continue
                accepted += 1
                if rng.random() < 0.1:  # a second attempt the same week: refused, nothing changes
                    again = _random_submission(rng, team_id, person_id, week)
                    with pytest.raises(AlreadyAnswered):
                        submit_pulse(engine, **again)
    # and a burst from threads into the same team-week cells
    burst_week = "2026-W20"
    burst = [
        _random_submission(rng, team_id, person_id, burst_week)
        for team_id in team_ids
        for person_id in members[team_id]
    ]
    errors: list[BaseException] = []

    def send(submission: dict) -> None:
        try:
            submit_pulse(engine, **submission)
        except BaseException as error:  # noqa: BLE001  (collected; the test fails below)
            errors.append(error)

    threads = [threading.Thread(target=send, args=(s,)) for s in burst]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert refused > 0 and accepted > 0
    assert _assert_maintained_equal_recomputed(engine) == accepted + len(burst)


def _snapshot(engine: Engine) -> dict[str, object]:
    """Everything the pulse tables hold, without the random ids and rowids (which must differ)."""
    with engine.connect() as connection:
        answers: dict[str, list[tuple]] = {}
        for response_id, item_id, value in connection.execute(
            text("SELECT response_id, item_id, value FROM pulse_answer")
        ):
            answers.setdefault(response_id, []).append((item_id, value))
        scores: dict[str, list[tuple]] = {}
        for response_id, construct_id, score in connection.execute(
            text("SELECT response_id, construct_id, score FROM pulse_score")
        ):
            scores.setdefault(response_id, []).append((construct_id, score))
        responses = Counter(
            (*row[1:], tuple(sorted(answers[row[0]])), tuple(sorted(scores[row[0]])))
            for row in connection.execute(
                text(
                    "SELECT id, team_id, week, instrument_version, days_home, days_office, days_site, "
                    "work_pattern, comment FROM pulse_response"
                )
            )
        )
        return {
            "responses": responses,
            "receipts": sorted(
                connection.execute(
                    text("SELECT period, receipt, team_id FROM participation_receipt")
                ).all()
            ),
            "team_week_score": sorted(
                connection.execute(
                    text(
                        "SELECT team_id, week, construct_id, work_pattern, n, total, total_sq "
                        "FROM team_week_score"
                    )
                ).all()
            ),
            "team_week_responses": sorted(
                connection.execute(
                    text("SELECT team_id, week, n, comments FROM team_week_responses")
                ).all()
            ),
        }


def _empty_every_table(engine: Engine) -> None:
    """Delete every row and restart the id counters, so the rebuilt organisation has the same ids."""
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                if table == "unit":  # parents are RESTRICTed while children exist: leaves first
                    while connection.execute(text("SELECT COUNT(*) FROM unit")).scalar_one():
                        connection.execute(
                            text(
                                "DELETE FROM unit WHERE id NOT IN "
                                "(SELECT parent_id FROM unit WHERE parent_id IS NOT NULL)"
                            )
                        )
                else:
                    connection.execute(text(f"DELETE FROM {table}"))


def test_bulk_build_stores_exactly_what_submitting_each_answer_stores(engine: Engine) -> None:
    plan = BenchPlan(teams=3, weeks=4)
    build(engine, plan, KEY)
    bulk = _snapshot(engine)
    assert sum(bulk["responses"].values()) > 150  # type: ignore[attr-defined]
    assert any(
        response[7] == "Ask me at [email removed] about the rota." for response in bulk["responses"]
    )  # type: ignore[attr-defined]

    _empty_every_table(engine)
    org = create_structure(engine, plan)
    items = [item for _, item in get_composition().items]
    for chunk in synthetic_chunks(plan, org, items):
        for submission in chunk:
            submit_pulse(engine, participation_key=KEY, **vars(submission))
    submitted = _snapshot(engine)

    for table in ("responses", "receipts", "team_week_score", "team_week_responses"):
        assert bulk[table] == submitted[table], table
    _assert_maintained_equal_recomputed(engine)
