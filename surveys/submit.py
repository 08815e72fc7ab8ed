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

import threading
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from models.access import Viewer
from models.at_rest import mark_written, storage_sealer
from models.base import iso_week, week_monday
from models.batch_sql import existing as _existing
from models.batch_sql import pipelined as _pipelined
from models.db import read_session
from models.faults import TRY_AGAIN, is_transient
from models.group_commit import GroupWriter
from models.language import N_
from models.org import Unit
from models.org_settings import get_org_setting, set_org_setting
from models.participation import Claim, claim_postgres, claim_sqlite, wider_receipts
from models.participation import has_answered as has_answered  # re-exported for the pages
from models.participation import participation_receipt as participation_receipt
from models.releases import released_weeks_among
from surveys.comments import (
    MAX_COMMENT_LENGTH,
    NameIndex,
    scrub_comment,
)
from surveys.composition import (
    DEFAULT_COMPOSITION_ID,
    Composition,
    InvalidAnswers,
    available_compositions,
    get_composition,
)
from surveys.name_cache import (
    PeopleVersion,
    name_index_at,
    people_changes,
    people_version,
    recent_name_index,
)
from surveys.name_cache import person_names as person_names  # re-exported (benchmark)
from surveys.name_cache import refresh_name_index as refresh_name_index  # re-exported (benchmark)
from surveys.response_rows import NewResponse, ensure_period, write_responses
from surveys.response_rows import add_to_weekly_sums as add_to_weekly_sums  # re-exported (benchmark)
from surveys.response_rows import response_ids as response_ids  # re-exported (benchmark)

COMPOSITION_SETTING = "pulse_composition"
MAX_DAYS = 7


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
    scrubbed_with: PeopleVersion | None = None
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
    version: PeopleVersion | None = None
    if _is_written(comment):
        names: NameIndex | tuple[str, ...]
        if known_names is not None:
            names = tuple(sorted(set(known_names)))
        elif session is None:
            raise TypeError("a comment is scrubbed with everyone's names: give a session or known_names")
        else:
            names, version = recent_name_index(session)
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
        changes = people_changes(session)
        if changes is not None and all(
            prepared.scrubbed_with.changes == changes  # type: ignore[union-attr]
            for prepared in checked
        ):
            return asked
        version = people_version(session)
        index = name_index_at(session, version)
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


_ALREADY_ANSWERED = N_("You have already answered this week's pulse. Thank you! Come back next week.")


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
