"""Submitting a weekly pulse: validate, then write everything in one transaction, or nothing.

One transaction writes the participation receipts (HMAC of person and period, one per period
kind: the week's stops a second answer; ``models.participation``) and the anonymous response (id:
week and random bits; team, week, composition version, days, work pattern, scrubbed comment, and
its answers and construct scores as JSON in the same row), and adds the scores to the maintained
aggregates ``team_week_score`` and ``team_week_responses`` with a portable upsert (SQLite and
PostgreSQL ``ON CONFLICT DO UPDATE``), so 200 people submitting at once neither collide nor lose a
count.

Everything that only reads (validation, comment scrubbing with the cached names) happens in
``prepare_submission`` before the write transaction opens: on SQLite a writer holds the one write
lock (``BEGIN IMMEDIATE``) from its first statement, so the lock is held only for the writes and
the few checks that must see the database as it is written (teams exist, receipts are new, the
names that scrubbed a comment are still everyone's).

Anonymity by architecture: the response carries no person, no timestamp and no sequential id. On
SQLite responses get a rowid that is their week, then random bits (their rowid order within a week
is random; the week is in the row anyway), and receipts have no rowid. What insertion still leaves
(cell order inside pages and the write-ahead log on SQLite; ``ctid`` and ``xmin`` on PostgreSQL)
is removed shortly after by sealing: each batch marks its weeks unsealed, and the engine's
``models.at_rest.StorageSealer`` rewrites them (docs/PRIVACY_AT_REST.md).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Table, bindparam, func, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from models.access import Viewer
from models.at_rest import mark_written, storage_sealer
from models.base import iso_week, week_monday
from models.batch_sql import existing as _existing
from models.batch_sql import pipelined as _pipelined
from models.batch_sql import shuffle as _shuffle
from models.batch_sql import week_rowids as week_rowids  # re-exported (benchmark, tests)
from models.batch_sql import write_rows as _write_rows
from models.db import read_session
from models.faults import TRY_AGAIN, is_transient
from models.group_commit import GroupWriter
from models.org import PeopleChanges, Person, Unit
from models.org_settings import get_org_setting, set_org_setting
from models.participation import Claim, claim_postgres, claim_sqlite, wider_receipts
from models.participation import has_answered as has_answered  # re-exported for the pages
from models.participation import participation_receipt as participation_receipt
from models.pulse import PulseResponse, TeamWeekResponses, TeamWeekScore
from models.releases import released_weeks_among
from surveys.comments import (
    MAX_COMMENT_LENGTH,
    NameIndex,
    build_name_index,
    extend_name_index,
    scrub_comment,
)
from surveys.composition import (
    DEFAULT_COMPOSITION_ID,
    Composition,
    InvalidAnswers,
    available_compositions,
    get_composition,
)

COMPOSITION_SETTING = "pulse_composition"
MAX_DAYS = 7
_NAMES_KEY = "surveys.person_names"
# Rebuild the name index at least this often even when the people table looks unchanged: a rename
# to a name of the same length keeps its version (count, highest id, total length of names).
NAME_INDEX_MAX_AGE_SECONDS = 300.0
_RESPONSE = PulseResponse.__table__  # type: ignore[attr-defined]
_TEAM_WEEK_SCORE = TeamWeekScore.__table__  # type: ignore[attr-defined]
_TEAM_WEEK_RESPONSES = TeamWeekResponses.__table__  # type: ignore[attr-defined]


class SubmissionError(ValueError):
    """The submission was refused and nothing was stored; the message is safe to show."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or [message]
        super().__init__(message)


class AlreadyAnswered(SubmissionError):
    """This person has already answered the pulse for this week."""


class SubmissionUnavailable(SubmissionError):
    """The database stayed unreachable or busy through every try; nothing was saved."""


# A dropped connection or SQLite's "database is locked" is tried again after these pauses. A retry
# cannot store a second copy: the participation receipt is claimed in the same transaction as the
# answer, so if the first try did commit, the retry finds the receipt and says AlreadyAnswered.
SUBMIT_RETRY_PAUSES: tuple[float, ...] = (0.2, 0.6)


@dataclass(frozen=True)
class SubmissionResult:
    """What the writer may be told. Deliberately no response id: nothing to link back."""

    week: str
    composition_id: str
    scores: dict[str, float]
    work_pattern: str
    comment_stored: str | None = None
    comment_scrubbed: bool = False


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


def check_week(week: str) -> str:
    """A canonical ISO week label such as ``2026-W14``, or ``SubmissionError``."""
    try:
        monday = week_monday(week)
    except ValueError as error:
        raise SubmissionError(str(error)) from error
    if iso_week(monday) != week:
        raise SubmissionError(f"{week!r} is not an ISO week such as {iso_week(monday)}")
    return week


def _day_problems(days: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, value in days.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{name}: {value!r} is not a whole number of days")
        elif not 0 <= value <= MAX_DAYS:
            problems.append(f"{name}: {value} is outside 0-{MAX_DAYS}")
    if not problems and sum(v or 0 for v in days.values()) > MAX_DAYS:
        problems.append(f"days at home, at an office and on site add up to more than {MAX_DAYS}")
    return problems


def person_names(session: Session) -> tuple[str, ...]:
    """Display names of everyone in the database, loaded once per session (comment scrubbing)."""
    names = session.info.get(_NAMES_KEY)
    if names is None:
        names = tuple(sorted(set(session.exec(select(Person.display_name)).all())))
        session.info[_NAMES_KEY] = names
    return names


@dataclass(frozen=True)
class _PeopleVersion:
    """Which state of the people table a name index holds: the trigger-kept count of changes
    (``PeopleChanges``: one row to read), and a fingerprint (one aggregate query) that tells
    people added from anything else, so that a new starter extends the index instead of
    rebuilding it."""

    changes: int | None
    count: int
    max_id: int
    name_length: int


@dataclass(frozen=True)
class _CachedIndex:
    version: _PeopleVersion
    built_at: float  # of the last full build
    index: NameIndex


_name_indexes: dict[str, _CachedIndex] = {}
_name_index_lock = threading.Lock()


def _people_changes(session: Session) -> int | None:
    """The trigger-kept count of changes to the people table; None if its row is missing (then
    nobody counts, and only the fingerprint can say whether people changed)."""
    changes = session.exec(select(PeopleChanges.changes).where(PeopleChanges.id == 1)).first()
    return None if changes is None else int(changes)


def _people_version(session: Session) -> _PeopleVersion:
    changes = _people_changes(session)  # first: a change committed after it makes a later read differ
    count, max_id, name_length = session.exec(
        select(func.count(), func.max(Person.id), func.sum(func.length(Person.display_name)))  # type: ignore[call-overload]
    ).one()
    return _PeopleVersion(changes, int(count), int(max_id or 0), int(name_length or 0))


def _young(cached: _CachedIndex, margin: float) -> bool:
    """Whether the index's last full build is younger than the maximum age less ``margin``."""
    return time.monotonic() - cached.built_at < NAME_INDEX_MAX_AGE_SECONDS - margin


def _current(
    cached: _CachedIndex | None, version: _PeopleVersion, margin: float = 0.0
) -> NameIndex | None:
    if cached is None or cached.version != version:
        return None
    return cached.index if _young(cached, margin) else None


def _extended(session: Session, cached: _CachedIndex, version: _PeopleVersion) -> _CachedIndex | None:
    """The cached index plus the people added since, if that is the only change (else None)."""
    if version.max_id <= cached.version.max_id or version.count <= cached.version.count:
        return None
    added = session.exec(select(Person.display_name).where(Person.id > cached.version.max_id)).all()
    if (
        cached.version.count + len(added) != version.count
        or cached.version.name_length + sum(len(name) for name in added) != version.name_length
    ):
        return None
    return _CachedIndex(version, cached.built_at, extend_name_index(cached.index, added))


def _database_key(session: Session) -> str:
    """Which database a session reads (bound to an engine, or to a writer's connection)."""
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _name_index_at(session: Session, version: _PeopleVersion, *, margin: float = 0.0) -> NameIndex:
    """The name index for the people table at ``version``: the cached one if it was built for
    that version (and is younger than ``NAME_INDEX_MAX_AGE_SECONDS`` less ``margin``), else
    extended with the people added since (a new starter costs little), else rebuilt. The old
    index stays in use by other threads until the new one replaces it."""
    database = _database_key(session)
    index = _current(_name_indexes.get(database), version, margin)
    if index is not None:
        return index
    with _name_index_lock:  # one thread updates; the others waiting here then find its index
        cached = _name_indexes.get(database)
        index = _current(cached, version, margin)
        if index is not None:
            return index
        fresh = cached is not None and _young(cached, margin)
        updated = _extended(session, cached, version) if fresh and cached is not None else None
        if updated is None:
            names = session.exec(select(Person.display_name)).all()
            updated = _CachedIndex(version, time.monotonic(), build_name_index(names))
        _name_indexes[database] = updated
        return updated.index


def _recent_name_index(session: Session) -> tuple[NameIndex, _PeopleVersion]:
    """The cached name index and the people version it was built for, without asking the
    database unless there is none yet or it is too old: a submission scrubs its comment with it
    while it is prepared, and the writer confirms the version inside its write transaction
    (``_scrub_with_current_names``). Asking here as well put one query per commented submission
    in the middle of a burst, and those submissions arrived 10-18 ms after the others."""
    cached = _name_indexes.get(_database_key(session))
    if cached is not None and _young(cached, 0.0):
        return cached.index, cached.version
    version = _people_version(session)
    return _name_index_at(session, version), version


def refresh_name_index(engine: Engine, *, due_within_seconds: float = 0.0) -> None:
    """Build the comment-scrubbing name index, or bring it up to date, before a submitter needs
    it; rebuild it now if it would reach ``NAME_INDEX_MAX_AGE_SECONDS`` within
    ``due_within_seconds``.

    Left to the submissions, the first commented one of a server process builds it, and the first
    one after the maximum age rebuilds it: at 21,000 people that is 160 ms holding the interpreter
    lock in the middle of whatever burst the comment came in with. At a million responses the
    process's first burst of 200 submitters had a p95 of 140 ms, 47 ms with the index built
    beforehand. The server's background warmer calls this every minute (``app.warmup``)."""
    with read_session(engine) as session:
        _name_index_at(session, _people_version(session), margin=due_within_seconds)


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


def _resolve(composition: Composition | str) -> Composition:
    if isinstance(composition, Composition):
        return composition
    try:
        return get_composition(composition)
    except KeyError as error:
        raise SubmissionError(str(error.args[0])) from error


@dataclass(frozen=True)
class PreparedSubmission(NewResponse):
    """A checked submission, ready to write: what ``prepare_submission`` read and worked out."""

    person_id: int
    receipt: str  # the week's (refuses a second answer)
    comment_scrubbed: bool
    # The comment as written, and the people version whose names scrubbed it (None: the caller
    # gave the names). Kept in memory until the writer has checked that version in its write
    # transaction, and scrubbed again if anyone joined or was renamed meanwhile; never stored.
    written_comment: str | None = field(default=None, repr=False)
    scrubbed_with: _PeopleVersion | None = None
    # (period, receipt) of the month, quarter and year: written with the first answer in each.
    wider_receipts: tuple[tuple[str, str], ...] = ()

    def result(self) -> SubmissionResult:
        """What its submitter is told once it is stored."""
        return SubmissionResult(
            week=self.week,
            composition_id=self.composition.id,
            scores=self.scores,
            work_pattern=self.pattern,
            comment_stored=self.comment,
            comment_scrubbed=self.comment_scrubbed,
        )


def _is_written(comment: str | None) -> bool:
    """Whether a comment has anything in it to store (and so to scrub): blank ones are dropped."""
    return bool(comment and comment.strip())


def prepare_submission(
    session: Session | None,
    *,
    person_id: int,
    team_id: int,
    week: str,
    answers: Mapping[str, Any],
    days_home: int | None = None,
    days_office: int | None = None,
    days_site: int | None = None,
    comment: str | None = None,
    participation_key: bytes,
    composition: Composition | str = DEFAULT_COMPOSITION_ID,
    known_names: Iterable[str] | None = None,
) -> PreparedSubmission:
    """Check a submission and scrub its comment, reading only (no write lock needed).

    Raises ``SubmissionError`` listing every problem. ``known_names`` are the names to scrub
    from the comment; by default every person's display name in the database (the cached name
    index: the only read, and only for a comment, so ``session`` may be None when there is no
    comment to scrub or ``known_names`` are given). Whether the team exists is checked by the
    writer, in one query per batch (``write_prepared_batch``).
    """
    chosen = _resolve(composition)
    check_week(week)
    problems: list[str] = []
    try:
        clean_answers = chosen.validate(answers)
    except InvalidAnswers as error:
        problems.extend(error.problems)
        clean_answers = {}
    problems.extend(
        _day_problems({"days_home": days_home, "days_office": days_office, "days_site": days_site})
    )
    if comment is not None and len(comment) > MAX_COMMENT_LENGTH:
        problems.append(f"the comment has {len(comment)} characters; the most is {MAX_COMMENT_LENGTH}")
    if not participation_key:
        problems.append("no participation key configured")
    if problems:
        raise SubmissionError("Your answers were not saved: " + "; ".join(problems), problems)

    stored_comment: str | None = None
    scrubbed = False
    version: _PeopleVersion | None = None
    if _is_written(comment):
        names: NameIndex | tuple[str, ...]
        if known_names is not None:
            names = tuple(sorted(set(known_names)))
        elif session is None:
            raise TypeError("a comment is scrubbed with everyone's names: give a session or known_names")
        else:
            names, version = _recent_name_index(session)
        result = scrub_comment(comment, names)
        stored_comment, scrubbed = (result.text or None), result.changed
    return PreparedSubmission(
        person_id=person_id,
        team_id=team_id,
        week=week,
        composition=chosen,
        answers=clean_answers,
        days=(days_home, days_office, days_site),
        receipt=participation_receipt(participation_key, person_id, week),
        wider_receipts=wider_receipts(participation_key, person_id, week),
        comment=stored_comment,
        comment_scrubbed=scrubbed,
        written_comment=comment if version is not None else None,
        scrubbed_with=version,
    )


def _scrub_with_current_names(
    connection: Connection, asked: Sequence[PreparedSubmission]
) -> Sequence[PreparedSubmission]:
    """Confirm, inside the write transaction, that the comments were scrubbed with the names of
    everyone in the people table now (one query per batch with comments); scrub again those
    scrubbed before someone joined or was renamed. So a colleague added a moment before a comment
    naming them is written is always scrubbed, and a burst's commented submissions ask the
    database nothing while they are prepared."""
    checked = [prepared for prepared in asked if prepared.scrubbed_with is not None]
    if not checked:
        return asked
    with Session(bind=connection) as session:
        changes = _people_changes(session)
        if changes is not None and all(
            prepared.scrubbed_with.changes == changes  # type: ignore[union-attr]
            for prepared in checked
        ):
            return asked
        version = _people_version(session)
        index = _name_index_at(session, version)
    current: list[PreparedSubmission] = []
    for prepared in asked:
        if prepared.scrubbed_with is None or prepared.scrubbed_with == version:
            current.append(prepared)
            continue
        result = scrub_comment(prepared.written_comment or "", index)
        current.append(
            replace(
                prepared,
                comment=result.text or None,
                comment_scrubbed=result.changed,
                scrubbed_with=version,
            )
        )
    return current


_ALREADY_ANSWERED = "You have already answered this week's pulse. Thank you! Come back next week."


def write_prepared_batch(
    connection: Connection, asked: Sequence[PreparedSubmission]
) -> list[SubmissionResult | SubmissionError]:
    """Write prepared submissions inside the caller's write transaction: check their teams exist
    and claim their receipts (``_check_teams_then_claim``; on PostgreSQL one statement), then
    write the responses whose receipt was new. Per submission, its result, or the
    ``SubmissionError`` (``AlreadyAnswered``, or a team that does not exist) saying why nothing of
    that one was written. An answer for a week already released is refused: a released figure
    never changes."""
    closed = released_weeks_among(connection, {prepared.week for prepared in asked})
    if closed:
        kept = iter(write_prepared_batch(connection, [p for p in asked if p.week not in closed]))
        return [_released(p.week) if p.week in closed else next(kept) for p in asked]
    asked = _scrub_with_current_names(connection, asked)
    if connection.dialect.name == "postgresql":
        known, claimed = _claim_in_one_statement(connection, asked)
    else:
        mark_written(connection, [prepared.week for prepared in asked])  # first: see there
        known, claimed = _check_teams_then_claim(connection, asked)
    write_responses(connection, [prepared for prepared, new in zip(asked, claimed, strict=True) if new])
    refused = {id(prepared) for prepared, new in zip(asked, claimed, strict=True) if not new}
    outcomes: list[SubmissionResult | SubmissionError] = []
    for prepared in asked:
        if prepared.team_id not in known:
            problem = f"team {prepared.team_id} does not exist"
            outcomes.append(SubmissionError(f"Your answers were not saved: {problem}", [problem]))
            continue
        if id(prepared) in refused:
            outcomes.append(AlreadyAnswered(_ALREADY_ANSWERED))
            continue
        outcomes.append(prepared.result())
    return outcomes


def _released(week: str) -> SubmissionError:
    problem = f"{week} has closed and its figures have been released, so it takes no more answers"
    return SubmissionError(f"Your answers were not saved: {problem}", [problem])


def _claims(batch: Sequence[PreparedSubmission]) -> list[Claim]:
    return [Claim(p.week, p.receipt, p.team_id, p.wider_receipts) for p in batch]


def _check_teams_then_claim(
    connection: Connection, asked: Sequence[PreparedSubmission]
) -> tuple[set[int], list[bool]]:
    """SQLite: which of the submissions' teams exist, then the weeks' periods and the receipts of
    the submissions whose team exists: per submission, whether its receipts were claimed here."""
    known = _existing(connection, "unit", "id", sorted({prepared.team_id for prepared in asked}))
    batch = [prepared for prepared in asked if prepared.team_id in known]
    for week in sorted({prepared.week for prepared in batch}):
        ensure_period(connection, week)
    claimed = claim_sqlite(connection, _claims(batch))
    in_batch = {id(prepared): new for prepared, new in zip(batch, claimed, strict=True)}
    return known, [in_batch.get(id(prepared), False) for prepared in asked]


def _claim_in_one_statement(
    connection: Connection, asked: Sequence[PreparedSubmission]
) -> tuple[set[int], list[bool]]:
    """PostgreSQL: the week's unsealed mark and ``_check_teams_then_claim`` in one round trip
    instead of four (``models.at_rest.mark_written``, ``models.participation.claim_postgres``).
    A receipt asked twice is inserted once. Only what the statement cannot tell is looked up
    afterwards, rarely: whether the team of a submission whose receipt was not claimed (or was
    asked twice) exists."""
    if not asked:
        return set(), []
    with _pipelined(connection):  # the week's unsealed mark first (see there), one round trip
        mark_written(connection, [prepared.week for prepared in asked])
        new = claim_postgres(connection, _claims(asked))
    asked_times = Counter(prepared.receipt for prepared in asked)
    known = {  # a receipt claimed for one submission only: its team exists
        prepared.team_id
        for prepared in asked
        if prepared.receipt in new and asked_times[prepared.receipt] == 1
    }
    known |= _existing(
        connection, "unit", "id", sorted({prepared.team_id for prepared in asked} - known)
    )
    claimed: list[bool] = []
    for prepared in asked:  # the first submission of a claimed receipt whose team exists
        mine = prepared.receipt in new and prepared.team_id in known
        claimed.append(mine)
        if mine:
            new.discard(prepared.receipt)
    return known, claimed


def write_prepared(connection: Connection, prepared: PreparedSubmission) -> SubmissionResult:
    """Write one prepared submission inside the caller's write transaction, or raise
    ``SubmissionError`` (e.g. ``AlreadyAnswered``) having written nothing."""
    outcome = write_prepared_batch(connection, [prepared])[0]
    if isinstance(outcome, SubmissionError):
        raise outcome
    return outcome


_writers: weakref.WeakKeyDictionary[Engine, GroupWriter[PreparedSubmission, SubmissionResult]] = (
    weakref.WeakKeyDictionary()
)
_writers_lock = threading.Lock()


def submission_writer(engine: Engine) -> GroupWriter[PreparedSubmission, SubmissionResult]:
    """The engine's group-commit writer for submissions (one per engine, made on first use)."""
    with _writers_lock:
        writer = _writers.get(engine)
        if writer is None:
            sealer = storage_sealer(engine)
            writer = _writers[engine] = GroupWriter(engine, write_prepared_batch, on_commit=sealer.nudge)
            sealer.nudge()  # weeks a process before this one wrote and did not seal
        return writer


def submit_pulse_in(
    session: Session,
    *,
    person_id: int,
    team_id: int,
    week: str,
    answers: Mapping[str, Any],
    days_home: int | None = None,
    days_office: int | None = None,
    days_site: int | None = None,
    comment: str | None = None,
    participation_key: bytes,
    composition: Composition | str = DEFAULT_COMPOSITION_ID,
    known_names: Iterable[str] | None = None,
) -> SubmissionResult:
    """Validate and write one response within the caller's transaction (the caller commits), for
    callers that batch many answers in one transaction (demo data, benchmark).

    Raises ``SubmissionError`` (every problem listed) or ``AlreadyAnswered`` before writing
    anything. See ``prepare_submission`` for ``known_names``.
    """
    prepared = prepare_submission(
        session,
        person_id=person_id,
        team_id=team_id,
        week=week,
        answers=answers,
        days_home=days_home,
        days_office=days_office,
        days_site=days_site,
        comment=comment,
        participation_key=participation_key,
        composition=composition,
        known_names=known_names,
    )
    return write_prepared(session.connection(), prepared)


def submit_pulse(
    engine: Engine,
    *,
    person_id: int,
    team_id: int,
    week: str,
    answers: Mapping[str, Any],
    days_home: int | None = None,
    days_office: int | None = None,
    days_site: int | None = None,
    comment: str | None = None,
    participation_key: bytes,
    composition: Composition | str = DEFAULT_COMPOSITION_ID,
    known_names: Iterable[str] | None = None,
) -> SubmissionResult:
    """Submit in a transaction of its own: all of it is stored, or (on any error) none of it.

    Checks and comment scrubbing run first, so the write transaction (and on SQLite the
    database's one write lock) lasts only for the inserts; a read session is opened only for a
    comment, to scrub it with everyone's names (making and closing one took half the preparing
    of a submission without a comment, 30 of 61 µs, and 200 submitters arriving at once share
    one interpreter). Submissions arriving together share one write transaction
    (``models.group_commit``): each call still returns only once its own answers are committed.

    A transient failure (``models.faults.is_transient``) is tried again (``SUBMIT_RETRY_PAUSES``),
    then raises ``SubmissionUnavailable`` with a polite message."""
    for pause in (*SUBMIT_RETRY_PAUSES, None):
        try:
            prepared = prepare_with_engine(
                engine,
                person_id=person_id,
                team_id=team_id,
                week=week,
                answers=answers,
                days_home=days_home,
                days_office=days_office,
                days_site=days_site,
                comment=comment,
                participation_key=participation_key,
                composition=composition,
                known_names=known_names,
            )
            return submission_writer(engine).write(prepared)
        except SubmissionError:
            raise
        except Exception as error:
            if not is_transient(error):
                raise
            if pause is None:
                raise SubmissionUnavailable(TRY_AGAIN) from error
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def prepare_with_engine(engine: Engine, **submission: Any) -> PreparedSubmission:
    """``prepare_submission`` (same keywords) as ``submit_pulse`` runs it: with a read session
    of its own only when a comment must be scrubbed with everyone's names in the database."""
    needs_names = submission.get("known_names") is None and _is_written(submission.get("comment"))
    with read_session(engine) if needs_names else nullcontext() as session:
        return prepare_submission(session, **submission)


def organisation_of(session: Session, unit_id: int) -> int:
    """The root unit (the organisation) above ``unit_id``; ``ValueError`` for an unknown unit."""
    seen: set[int] = set()
    current = session.get(Unit, unit_id)
    if current is None:
        raise ValueError(f"unit {unit_id} does not exist")
    while current.parent_id is not None:
        if current.id in seen:
            raise ValueError(f"unit {unit_id} sits in a loop of parents")
        seen.add(current.id)  # type: ignore[arg-type]
        parent = session.get(Unit, current.parent_id)
        if parent is None:
            break
        current = parent
    return current.id  # type: ignore[return-value]


def composition_for(session: Session, *, organisation_id: int, week: str) -> Composition:
    """The composition an organisation uses in ``week`` (org setting, default ``weekly-core``).

    A stored choice that is no longer usable (removed, or its licensed wording file is gone)
    falls back to the default rather than showing staff a broken form.
    """
    chosen = get_org_setting(
        session, organisation_id=organisation_id, key=COMPOSITION_SETTING, week=week, default=None
    )
    usable = available_compositions()
    if isinstance(chosen, str) and chosen in usable:
        return usable[chosen]
    return get_composition(DEFAULT_COMPOSITION_ID)


def set_pulse_composition(
    session: Session,
    *,
    viewer: Viewer,
    organisation_id: int,
    composition_id: str,
    today: date | None = None,
) -> str:
    """Choose the organisation's composition from next week (audited); returns that week.

    Admins only, checked here (not only by the page): it changes every team's pulse.
    """
    viewer.require("admin")
    usable = available_compositions()
    if composition_id not in usable:
        raise ValueError(f"{composition_id!r} cannot be used; choose one of {', '.join(sorted(usable))}")
    organisation = session.get(Unit, organisation_id)
    if organisation is None or organisation.parent_id is not None:
        raise ValueError(f"unit {organisation_id} is not an organisation (a root unit)")
    return set_org_setting(
        session,
        organisation_id=organisation_id,
        key=COMPOSITION_SETTING,
        value=composition_id,
        actor=viewer.email,
        today=today,
    )
