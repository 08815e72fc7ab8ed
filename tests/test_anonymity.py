"""Anonymity by architecture, checked on the database itself.

Sixty people in one team answer in a known order with answers that identify them (ground truth).
An attacker who holds the participation key (the worst case: they can name everyone who answered
from the receipts) then tries to link responses to receipts by a shared column, by id, by time and
by storage order (SQLite rowid; PostgreSQL ctid once sealed). None may recover more than chance.

On PostgreSQL the heap order (``ctid``) follows insertion and a response shares its inserting
transaction id (``xmin``) with its receipt until the week is sealed (``models.at_rest``, within a
minute of the submissions); the PostgreSQL tests check the sealed state. The raw files (page
layout, write-ahead log, dead rows) are tried in ``test_at_rest.py``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Date, DateTime, Time, inspect, text
from sqlalchemy.engine import Engine

from models.at_rest import rewrite_all, seal
from models.db import write_session
from models.org import Unit
from models.pulse import ParticipationReceipt, PulseResponse
from surveys.composition import get_composition
from surveys.submit import participation_receipt, submit_pulse

KEY = b"anonymity-test-key"
WEEK = "2026-W10"
PEOPLE = 60
# Chance alone lines up about 1 of 60 pairs; 10 or more happens with probability below 1e-6.
MAX_CHANCE_MATCHES = 10


def _answers_for(person: int) -> dict[str, int]:
    """WHO-5 answers that spell the person's number in base 6, so each response is identifiable."""
    answers = dict.fromkeys(get_composition("weekly-core").item_ids, 3)
    for position in range(5):
        answers[f"who5_{position + 1}"] = (person // 6**position) % 6
    return answers


def _person_of(answers: dict[str, int]) -> int:
    return sum(answers[f"who5_{p + 1}"] * 6**p for p in range(5))


@pytest.fixture
def answered(engine: Engine) -> Engine:
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Org", kind="organisation")
        session.add(org)
        session.flush()
        team = Unit(code="T", name="Team", kind="team", parent_id=org.id)
        session.add(team)
        session.flush()
        team_id = team.id
    for person in range(1, PEOPLE + 1):  # one after another: insertion order = person order
        submit_pulse(
            engine,
            person_id=person,
            team_id=team_id,  # type: ignore[arg-type]
            week=WEEK,
            answers=_answers_for(person),
            participation_key=KEY,
            composition="weekly-core",
            known_names=(),
        )
    return engine


def _order_column(engine: Engine) -> str:
    return "rowid" if engine.dialect.name == "sqlite" else "ctid"


def _responses_in_storage_order(engine: Engine) -> list[str]:
    """Response ids in storage order (their answers are in the same rows)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT id FROM pulse_response ORDER BY {_order_column(engine)}")
        )
        return [row[0] for row in rows]


def _people_in_receipt_storage_order(engine: Engine) -> list[int]:
    by_receipt = {participation_receipt(KEY, person, WEEK): person for person in range(1, PEOPLE + 1)}
    with engine.connect() as connection:
        # SQLite keeps receipts in their key's B-tree alone (no rowid): a scan is storage order.
        order = "" if engine.dialect.name == "sqlite" else " ORDER BY ctid"
        rows = connection.execute(
            text(f"SELECT receipt FROM participation_receipt WHERE period = :week{order}"),
            {"week": WEEK},
        )
        return [by_receipt[row[0]] for row in rows]


def _truth(engine: Engine) -> dict[str, int]:
    """response id -> person, from the planted answers."""
    answers: dict[str, dict[str, int]] = {}
    with engine.connect() as connection:
        for response_id, item_id, value in connection.execute(
            text("SELECT response_id, item_id, value FROM pulse_answer")
        ):
            answers.setdefault(response_id, {})[item_id] = value
    return {response_id: _person_of(values) for response_id, values in answers.items()}


def _order_attack_hits(engine: Engine) -> int:
    """Pair the i-th response in storage order with the i-th receipt: how many pairs are right?"""
    truth = _truth(engine)
    responses = _responses_in_storage_order(engine)
    people = _people_in_receipt_storage_order(engine)
    assert len(responses) == len(people) == PEOPLE
    return sum(truth[response] == person for response, person in zip(responses, people, strict=True))


def test_responses_and_receipts_share_no_linking_column(answered: Engine) -> None:
    inspector = inspect(answered)
    response_columns = {c["name"] for c in inspector.get_columns("pulse_response")}
    receipt_columns = {c["name"] for c in inspector.get_columns("participation_receipt")}
    # The team, which every figure states; receipts say the period (a week or longer), nothing finer.
    assert response_columns & receipt_columns == {"team_id"}
    for table in ("pulse_response", "pulse_answer", "pulse_score", "participation_receipt"):
        names = {c["name"] for c in inspector.get_columns(table)}
        assert not names & {"person_id", "email", "user_id", "created_at", "submitted_at", "at", "seq"}
        for column in inspector.get_columns(table):
            assert not isinstance(column["type"], Date | DateTime | Time), f"{table}.{column['name']}"


def test_every_response_in_a_week_looks_the_same_apart_from_its_answers(answered: Engine) -> None:
    with answered.connect() as connection:
        rows = connection.execute(
            text("SELECT team_id, week, instrument_version, work_pattern, comment FROM pulse_response")
        ).all()
    assert len(set(rows)) == 1  # nothing such as a time or sequence sets one response apart


def test_ids_are_random_and_unrelated_to_receipts(answered: Engine) -> None:
    with answered.connect() as connection:
        rows = connection.execute(text("SELECT id, week FROM pulse_response")).all()
        receipts = [
            row[0] for row in connection.execute(text("SELECT receipt FROM participation_receipt"))
        ]
    ids = [response_id for response_id, _ in rows]
    # The response's week (which its row states anyway), then 96 random bits: nothing else.
    assert all(re.fullmatch(re.escape(week) + "[0-9a-f]{24}", response_id) for response_id, week in rows)
    assert len(set(ids)) == len(ids)
    assert not any(response_id in receipt for response_id in ids for receipt in receipts)
    truth = _truth(answered)
    # Sorting by id is not sorting by time: the id order puts people in a random order.
    by_id = [truth[response_id] for response_id in sorted(ids)]
    hits = sum(person == rank for rank, person in enumerate(by_id, start=1))
    assert hits < MAX_CHANCE_MATCHES


def test_storage_order_cannot_line_responses_up_with_receipts(answered: Engine) -> None:
    if answered.dialect.name == "postgresql":
        # PostgreSQL keeps rows in insertion order until the week is sealed.
        seal(answered)
    assert _order_attack_hits(answered) < MAX_CHANCE_MATCHES


def test_storage_order_does_not_follow_insertion_order(answered: Engine) -> None:
    if answered.dialect.name == "postgresql":
        seal(answered)
    people = _people_in_receipt_storage_order(answered)
    in_place = sum(person == rank for rank, person in enumerate(people, start=1))
    assert in_place < MAX_CHANCE_MATCHES
    truth = _truth(answered)
    responders = [truth[r] for r in _responses_in_storage_order(answered)]
    assert sum(person == rank for rank, person in enumerate(responders, start=1)) < MAX_CHANCE_MATCHES


def test_receipts_name_nobody_without_the_key(answered: Engine) -> None:
    with answered.connect() as connection:
        stored = {
            row[0]
            for row in connection.execute(
                text("SELECT receipt FROM participation_receipt WHERE period = :week"), {"week": WEEK}
            )
        }
    assert stored == {participation_receipt(KEY, person, WEEK) for person in range(1, PEOPLE + 1)}
    assert not stored & {
        participation_receipt(b"wrong-key", person, WEEK) for person in range(1, PEOPLE + 1)
    }
    assert ParticipationReceipt.__tablename__ != PulseResponse.__tablename__


@pytest.mark.parametrize("rewrite", ["seal", "rewrite_all"])
def test_postgres_transaction_ids_link_nothing_once_rewritten(answered: Engine, rewrite: str) -> None:
    if answered.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no per-row transaction id")
    if rewrite == "seal":
        seal(answered)
    else:
        with answered.begin() as connection:
            rewrite_all(connection)
    with answered.connect() as connection:
        response_xmins = {
            row[0] for row in connection.execute(text("SELECT xmin::text FROM pulse_response"))
        }
        receipt_xmins = {
            row[0] for row in connection.execute(text("SELECT xmin::text FROM participation_receipt"))
        }
        count = connection.execute(text("SELECT count(*) FROM pulse_response")).scalar_one()
    assert count == PEOPLE  # the rewrite kept every response
    # One transaction wrote every row back: the id says nothing about which submission a row was.
    assert len(response_xmins) == 1
    assert response_xmins == receipt_xmins
