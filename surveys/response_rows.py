"""The rows a pulse response writes: its id, its JSON documents, the response row and the
additions to the maintained weekly sums, with portable upserts (SQLite 3.24+ and PostgreSQL
``ON CONFLICT``), so that many writers add to the same team-week without losing a count."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Date, Table, bindparam, text
from sqlalchemy.engine import Connection

from models.base import week_monday
from models.batch_sql import pipelined as _pipelined
from models.batch_sql import shuffle as _shuffle
from models.batch_sql import week_rowids
from models.batch_sql import write_rows as _write_rows
from models.pulse import PulseResponse, TeamWeekResponses, TeamWeekScore
from surveys.composition import (
    Composition,
)

_RESPONSE = PulseResponse.__table__  # type: ignore[attr-defined]
_TEAM_WEEK_SCORE = TeamWeekScore.__table__  # type: ignore[attr-defined]
_TEAM_WEEK_RESPONSES = TeamWeekResponses.__table__  # type: ignore[attr-defined]


def work_pattern(days_home: int | None, days_office: int | None, days_site: int | None) -> str:
    """``home``/``office``/``site`` when that place had more than half of the days worked,
    ``hybrid`` otherwise, ``unknown`` when no days were given."""
    days = {"home": days_home or 0, "office": days_office or 0, "site": days_site or 0}
    total = sum(days.values())
    if total == 0:
        return "unknown"
    for place, count in days.items():
        if count * 2 > total:
            return place
    return "hybrid"


# One encoder: ``json.dumps`` with options builds a new one per call (a third of the time).
_JSON_DOCUMENT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)


def json_document(values: Mapping[str, Any]) -> str:
    """A response's answers or scores as stored: compact JSON, keys sorted (one spelling for the
    same content, whatever order the form sent)."""
    return _JSON_DOCUMENT.encode(values)


def response_ids(weeks: Sequence[str]) -> list[str]:
    """New responses' ids: each one's week, then 96 random bits in hex (32 characters)."""
    drawn = secrets.token_hex(12 * len(weeks))
    return [week + drawn[24 * i : 24 * i + 24] for i, week in enumerate(weeks)]


# Plain SQL written once: ON CONFLICT upserts read the same on SQLite (3.24+) and PostgreSQL, and
# pre-built statements keep a batched demo week fast (no per-row statement compilation).
_PERIOD_SQL = text(
    "INSERT INTO pulse_period (week, starts_on, ends_on) VALUES (:week, :starts_on, :ends_on) "
    "ON CONFLICT (week) DO NOTHING"
).bindparams(bindparam("starts_on", type_=Date), bindparam("ends_on", type_=Date))
# Upserts that add to the maintained sums: (columns, ON CONFLICT clause) for _write_rows.
_TEAM_WEEK_SCORE_UPSERT = (
    ("team_id", "week", "construct_id", "work_pattern", "n", "total", "total_sq"),
    " ON CONFLICT (team_id, week, construct_id, work_pattern) DO UPDATE SET "
    "n = team_week_score.n + excluded.n, total = team_week_score.total + excluded.total, "
    "total_sq = team_week_score.total_sq + excluded.total_sq",
)
_TEAM_WEEK_RESPONSES_UPSERT = (
    ("team_id", "week", "n", "comments"),
    " ON CONFLICT (team_id, week) DO UPDATE SET n = team_week_responses.n + excluded.n, "
    "comments = team_week_responses.comments + excluded.comments",
)


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows of one of the pulse tables; on SQLite with ``week_rowids``, so storage order
    says nothing about time within a week."""
    if not rows:
        return
    columns = tuple(rows[0])
    values = [tuple(row[column] for column in columns) for row in rows]
    if connection.dialect.name == "sqlite":
        columns = ("rowid", *columns)
        rowids = week_rowids([row["week"] for row in rows])
        values = [(rowid, *value) for rowid, value in zip(rowids, values, strict=True)]
    _write_rows(connection, table, columns, values)


def ensure_period(connection: Connection, week: str) -> None:
    """Create the ``pulse_period`` row for ``week`` if it is missing (safe under concurrency)."""
    monday = week_monday(week)
    connection.execute(
        _PERIOD_SQL, {"week": week, "starts_on": monday, "ends_on": monday + timedelta(days=6)}
    )


@dataclass(frozen=True)
class NewResponse:
    """What an anonymous response consists of, validated (an imported row; a prepared submission
    adds the receipt). Its scores, work pattern and stored JSON are worked out when it is made, in
    the submitter's own thread, so a batch shared by 200 submitters does not wait for them."""

    team_id: int
    week: str
    composition: Composition
    answers: dict[str, int]
    days: tuple[int | None, int | None, int | None]
    comment: str | None
    scores: dict[str, float] = field(init=False)
    pattern: str = field(init=False)
    answers_json: str = field(init=False)
    scores_json: str = field(init=False)

    def __post_init__(self) -> None:
        scores = self.composition.score(self.answers)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "pattern", work_pattern(*self.days))
        object.__setattr__(self, "answers_json", json_document(self.answers))
        object.__setattr__(self, "scores_json", json_document(scores))


def add_to_weekly_sums(
    sums: dict[tuple[int, str, str, str], list[float]],
    counts: dict[tuple[int, str], list[int]],
    response: NewResponse,
) -> None:
    """Add one response to a batch's sums, keyed as the maintained aggregates are: per (team, week,
    construct, work pattern) [n, total, total of squares], per (team, week) [responses, comments].
    The submission path and the benchmark's bulk loader both add through here, in the same order,
    so their sums agree bit for bit."""
    for construct_id, score in response.scores.items():
        cell = sums.setdefault(
            (response.team_id, response.week, construct_id, response.pattern), [0, 0.0, 0.0]
        )
        cell[0] += 1
        cell[1] += score
        cell[2] += score * score
    count = counts.setdefault((response.team_id, response.week), [0, 0])
    count[0] += 1
    count[1] += int(bool(response.comment))


def write_responses(connection: Connection, responses: Sequence[NewResponse]) -> None:
    """Write validated anonymous responses (each with its answers and scores in its own row) and
    add them to the weekly aggregates. No receipts: the caller decides (submission claims them,
    imports have none). The periods' rows must exist.

    Responses are written in random order (with random ids, and random rowids on SQLite), so
    storage order says nothing about who in a batch answered when (until the week is sealed,
    ``models.at_rest``, a batch's rows can still be told apart as a batch). The batch's scores are
    added up per aggregate row first (in the order given), then added to the stored sums in key
    order (no deadlocks between writers).
    """
    rows: list[dict[str, Any]] = []
    sums: dict[tuple[int, str, str, str], list[float]] = {}
    counts: dict[tuple[int, str], list[int]] = {}
    ids = response_ids([response.week for response in responses])
    for response, response_id in zip(responses, ids, strict=True):
        rows.append(
            {
                "id": response_id,
                "team_id": response.team_id,
                "week": response.week,
                "instrument_version": response.composition.label,
                "days_home": response.days[0],
                "days_office": response.days[1],
                "days_site": response.days[2],
                "work_pattern": response.pattern,
                "comment": response.comment,
                "answers": response.answers_json,
                "scores": response.scores_json,
            }
        )
        add_to_weekly_sums(sums, counts, response)
    _shuffle(rows)  # in an order unrelated to the submitters'
    with _pipelined(connection):
        _insert(connection, _RESPONSE, rows)
        columns, tail = _TEAM_WEEK_SCORE_UPSERT
        sum_rows = [(*key, int(n), t, tq) for key, (n, t, tq) in sorted(sums.items())]
        _write_rows(connection, _TEAM_WEEK_SCORE, columns, sum_rows, tail)
        columns, tail = _TEAM_WEEK_RESPONSES_UPSERT
        count_rows = [(*key, n, comments) for key, (n, comments) in sorted(counts.items())]
        _write_rows(connection, _TEAM_WEEK_RESPONSES, columns, count_rows, tail)


def write_response(
    connection: Connection,
    *,
    team_id: int,
    week: str,
    composition: Composition,
    answers: dict[str, int],
    days: tuple[int | None, int | None, int | None],
    comment: str | None,
) -> None:
    """``write_responses`` for one response (see there)."""
    write_responses(connection, [NewResponse(team_id, week, composition, answers, days, comment)])
