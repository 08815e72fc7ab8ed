"""Property: a valid responses file, mutated at random, is either imported exactly (every row it
holds, answers as written) or refused whole with the database unchanged (both backends)."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.csv_input import decode, read_table
from models.db import read_session, write_session
from models.imports import ImportedFile
from models.org import Unit
from models.pulse import PulsePeriod, PulseResponse, TeamWeekResponses
from surveys.import_responses import OPTIONAL_COLUMNS, ResponseImportError, import_responses

ITEMS = ("who5_1", "who5_2", "who5_3", "who5_4", "who5_5")
VALID = (
    "team,period,who5_1,who5_2,who5_3,who5_4,who5_5,days_home,comment\n"
    "T1,2025-W40,5,5,5,5,5,3,All good\n"
    "T1,2025-W41,1,2,3,4,0,,\n"
    'T2,2025-W41,3,3,3,3,3,0,"two, words"\n'
)
NASTY = ["\x00", "\x1b", "\u202e", "\ufeff", '"', ",", "\n", "\r", "=", "'", "é", "9", "-", "W", "\xff"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate_line", "swap"]))
        if action == "insert":
            piece = draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)))
            text = text[:position] + piece + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 6)) :]
        elif action == "replace":
            piece = draw(st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=3)))
            text = text[:position] + piece + text[position + 1 :]
        elif action == "duplicate_line":
            lines = text.splitlines(keepends=True)
            index = draw(st.integers(0, len(lines) - 1))
            text = "".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])
        else:
            lines = text.splitlines(keepends=True)
            first, second = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[first], lines[second] = lines[second], lines[first]
            text = "".join(lines)
    return text


def _state(engine: Engine) -> tuple[int, int, int, int, int]:
    with read_session(engine) as session:
        counts = tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (PulseResponse, PulsePeriod, TeamWeekResponses, ImportedFile)
        )
        answers = sum(
            sum(json.loads(raw).values()) if isinstance(raw, str) else sum(raw.values())
            for raw in session.exec(select(PulseResponse.answers))
        )
    return (*counts, answers)  # type: ignore[return-value]


def _expected_rows(text: str) -> tuple[int, int]:
    """Rows and the total of their answers, as the strict reader sees a file that was accepted."""
    decoded, _ = decode(text)
    required = ["team", "period", *ITEMS]
    table, _ = read_table(decoded, required=required, optional=OPTIONAL_COLUMNS, multiline={"comment"})
    return len(table.rows), sum(int(row.values[item]) for row in table.rows for item in ITEMS)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=mutated(), as_bytes=st.booleans())
def test_mutated_files_are_imported_exactly_or_refused_whole(
    engine: Engine, text: str, as_bytes: bool
) -> None:
    with write_session(engine) as session:
        if session.exec(select(Unit)).first() is None:
            root = Unit(code="ORG", name="Org", kind="organisation")
            session.add(root)
            session.flush()
            for code in ("T1", "T2"):
                session.add(Unit(code=code, name=code, kind="team", parent_id=root.id))
    before = _state(engine)
    data: str | bytes = text.encode("utf-8", "surrogatepass") if as_bytes else text
    try:
        with write_session(engine) as session:
            import_responses(
                session, data, instrument="who5", allow_repeat=True, today=date(2026, 12, 2)
            )
    except ResponseImportError as error:
        assert _state(engine) == before
        assert all(line.startswith(("line ", "the ")) for line in error.problems)
        return
    rows, answers = _expected_rows(text)
    after = _state(engine)
    assert after[0] - before[0] == rows
    assert after[4] - before[4] == answers
