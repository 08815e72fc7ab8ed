"""Import anonymous responses from an earlier survey: all-or-nothing, every problem located.

CSV columns: ``team`` (team code), ``period`` (ISO week such as ``2026-W14``), one column per item
id of the instrument, and optionally ``days_home``, ``days_office``, ``days_site`` and ``comment``.
The file first passes the strict checks every import shares (``models.csv_input``: size, UTF-8,
columns, control characters, value length). Rows are then validated with the same rules as a
submission (scales, days, comment length) and scored by the instrument; comments are scrubbed.

A row is refused when its team is unknown or is not a team (a directorate or the organisation has
no answers of its own), when its week is malformed, before ``EARLIEST_WEEK``, after the current
week, or inside a period already released (``models.releases``: those figures are frozen). A file
whose content was imported before is refused unless ``allow_repeat`` is given: the same answers
counted twice would change every figure. Any problem refuses the whole file, all listed at once.

``import_responses_file`` validates in a read-only session and then writes in one short
transaction, so submitters are not kept waiting behind a long import. No participation receipts
are written: the earlier survey's participation is unknown, so response rates for imported weeks
have no denominator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import imports
from models.base import iso_week
from models.csv_input import (
    MAX_QUOTED_CHARACTERS,
    Problem,
    content_hash,
    decode,
    enough,
    quote,
    read_table,
    summarise,
)
from models.db import read_session, write_session
from models.org import Unit
from models.releases import ReleasedPeriodError, refuse_released
from surveys.comments import MAX_COMMENT_LENGTH, build_name_index, scrub_comment
from surveys.composition import Composition, InvalidAnswers
from surveys.instruments import Instrument, get_instrument
from surveys.name_cache import person_names
from surveys.response_rows import NewResponse, ensure_period, write_responses
from surveys.submit import MAX_DAYS, check_week, organisation_of

DAY_COLUMNS = ("days_home", "days_office", "days_site")
OPTIONAL_COLUMNS = (*DAY_COLUMNS, "comment")
EARLIEST_WEEK = "2000-W01"  # older weeks are a typing error, and exports walk every week from the first
IMPORT_KIND = "responses"
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,6}")


class ResponseImportError(ValueError):
    """The file was refused and nothing was stored; ``problems`` are "line N: ..." messages."""

    def __init__(self, problems: list[Problem]) -> None:
        ordered = sorted(problems, key=lambda p: (p.line, p.column or "", p.message))
        self.problems = [str(problem) for problem in ordered]
        super().__init__(summarise(ordered, f"{len(ordered)} problem(s), nothing imported:"))


@dataclass(frozen=True)
class ImportSummary:
    responses: int
    weeks: tuple[str, ...]
    teams: int
    comments_scrubbed: int

    def __str__(self) -> str:
        span = f"{self.weeks[0]} to {self.weeks[-1]}" if self.weeks else "no weeks"
        return (
            f"{self.responses} responses for {self.teams} team(s), {span}; "
            f"{self.comments_scrubbed} comment(s) had names, e-mails or phone numbers removed"
        )


@dataclass(frozen=True)
class CheckedImport:
    """A file that passed every check: its responses (comments scrubbed), ready to store."""

    responses: list[NewResponse]
    lines: list[int]
    organisation_of_team: dict[int, int]
    content_sha256: str
    comments_scrubbed: int

    def summary(self) -> ImportSummary:
        return ImportSummary(
            responses=len(self.responses),
            weeks=tuple(sorted({response.week for response in self.responses})),
            teams=len({response.team_id for response in self.responses}),
            comments_scrubbed=self.comments_scrubbed,
        )


def _whole_number(text: str) -> int | None:
    """Plain digits only ("5", "-1"): not "5.0", "1_0", "+5" or digits of other scripts."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def _short(text: str) -> str:
    """A value cut short enough to repeat in a message."""
    return text if len(text) <= MAX_QUOTED_CHARACTERS else text[: MAX_QUOTED_CHARACTERS - 3] + "..."


def _week_problem(week: str, current: str) -> str | None:
    try:
        check_week(week)
    except ValueError as error:
        return str(error).replace(repr(week), quote(week))
    if week < EARLIEST_WEEK:
        return f"{week} is before {EARLIEST_WEEK}; check the year"
    if week > current:
        return f"{week} is after the current week ({current}); answers cannot come from the future"
    return None


def _parse_row(
    line: int,
    values: dict[str, str],
    composition: Composition,
    units: dict[str, tuple[int, str]],
    current: str,
) -> tuple[NewResponse | None, list[Problem]]:
    problems: list[Problem] = []
    code = values["team"]
    unit = units.get(code)
    if unit is None:
        problems.append(Problem(line, f"unknown team {quote(code)}"))
    elif unit[1] != "team":
        problems.append(
            Problem(
                line,
                f"{quote(code)} is a{'n' if unit[1][0] in 'aeiou' else ''} {unit[1]}, not a team; "
                "answers belong to teams",
                column="team",
            )
        )
    week = values["period"]
    why = _week_problem(week, current)
    if why:
        problems.append(Problem(line, why, column="period"))
    answers: dict[str, int | str | None] = {}
    for item_id in composition.item_ids:
        text = values[item_id.lower()]
        number = _whole_number(text) if text else None
        answers[item_id] = number if number is not None or not text else _short(text)
    try:
        clean = composition.validate(answers)
    except InvalidAnswers as error:
        problems.extend(Problem(line, problem) for problem in error.problems)
        clean = {}
    days: list[int | None] = []
    for column in DAY_COLUMNS:
        text = values.get(column, "")
        number = _whole_number(text) if text else None
        if text and (number is None or not 0 <= number <= MAX_DAYS):
            problems.append(
                Problem(line, f"{quote(text)} is not a whole number of days 0-{MAX_DAYS}", column)
            )
        days.append(number)
    if sum(d or 0 for d in days) > MAX_DAYS:
        problems.append(
            Problem(line, f"days at home, at an office and on site add up to more than {MAX_DAYS}")
        )
    comment = values.get("comment") or None
    if comment is not None and len(comment) > MAX_COMMENT_LENGTH:
        problems.append(
            Problem(line, f"has {len(comment)} characters; the most is {MAX_COMMENT_LENGTH}", "comment")
        )
    if problems or unit is None:
        return None, problems
    response = NewResponse(unit[0], week, composition, clean, (days[0], days[1], days[2]), comment)  # type: ignore[arg-type]
    return response, []


def _released_problems(
    session: Session, responses: list[NewResponse], lines: list[int], organisation: dict[int, int]
) -> list[Problem]:
    """A problem for every row whose week lies in a period its organisation has released."""
    problems: list[Problem] = []
    first_line: dict[tuple[int, str], int] = {}
    for response, line in zip(responses, lines, strict=True):
        first_line.setdefault((organisation[response.team_id], response.week), line)
    for (organisation_id, week), line in sorted(first_line.items(), key=lambda item: item[1]):
        try:
            refuse_released(session, organisation_id=organisation_id, weeks=[week])
        except ReleasedPeriodError as error:
            rows = sum(
                1
                for response in responses
                if response.week == week and organisation[response.team_id] == organisation_id
            )
            also = f" (and {rows - 1} more rows for that week)" if rows > 1 else ""
            problems.append(Problem(line, f"{error}{also}", column="period"))
    return problems


def _repeat_problem(session: Session, sha256: str) -> Problem | None:
    when = imports.imported_at(session, kind=IMPORT_KIND, content_sha256=sha256)
    if when is None:
        return None
    return Problem(
        0,
        f"the same responses were already imported on {when:%Y-%m-%d %H:%M} UTC; importing them "
        "again would count every answer twice (give --allow-repeat if that is really meant)",
    )


def check_responses(
    session: Session,
    data: str | bytes,
    *,
    instrument: Instrument | str,
    known_names: Iterable[str] | None = None,
    allow_repeat: bool = False,
    today: date | None = None,
) -> CheckedImport:
    """Every check, nothing written: the responses ready to store, or ``ResponseImportError``
    listing every problem by line (and column)."""
    chosen = get_instrument(instrument) if isinstance(instrument, str) else instrument
    composition = Composition.whole(chosen)
    text, problems = decode(data)
    if not text:
        raise ResponseImportError(problems or [Problem(1, "the file is empty")])
    required = ["team", "period", *(item_id.lower() for item_id in composition.item_ids)]
    table, table_problems = read_table(
        text, required=required, optional=OPTIONAL_COLUMNS, multiline={"comment"}
    )
    problems += table_problems
    sha256 = content_hash(text)
    repeat = None if allow_repeat else _repeat_problem(session, sha256)
    if repeat:
        problems.append(repeat)
    if not table.header:
        raise ResponseImportError(problems)
    found = session.exec(select(Unit.code, Unit.id, Unit.kind)).all()
    units = {code: (unit_id, kind) for code, unit_id, kind in found}
    current = iso_week(today or date.today())
    responses: list[NewResponse] = []
    lines: list[int] = []
    for row in table.rows:
        if enough(problems, row.line):
            break
        response, row_problems = _parse_row(row.line, row.values, composition, units, current)
        problems.extend(row_problems)
        if response is not None:
            responses.append(response)
            lines.append(row.line)
    if not table.rows and not problems:
        problems.append(Problem(2, "the file has no responses"))
    organisation = {
        team_id: organisation_of(session, team_id) for team_id in {r.team_id for r in responses}
    }
    problems += _released_problems(session, responses, lines, organisation)
    if problems:
        raise ResponseImportError(problems)
    names = tuple(sorted(set(known_names))) if known_names is not None else person_names(session)
    index = build_name_index(names)
    scrubbed = 0
    clean: list[NewResponse] = []
    for response in responses:
        comment = response.comment
        if comment:
            result = scrub_comment(comment, index)
            comment, scrubbed = result.text or None, scrubbed + int(result.changed)
        clean.append(
            NewResponse(
                response.team_id,
                response.week,
                composition,
                response.answers,
                response.days,
                comment,
            )
        )
    return CheckedImport(clean, lines, organisation, sha256, scrubbed)


def store_responses(
    session: Session, checked: CheckedImport, *, allow_repeat: bool = False
) -> ImportSummary:
    """Write checked responses in the caller's transaction, after re-checking what may have changed
    since (a release, the same file imported meanwhile, a team turned into a parent unit)."""
    problems: list[Problem] = []
    repeat = None if allow_repeat else _repeat_problem(session, checked.content_sha256)
    if repeat:
        problems.append(repeat)
    team_ids = sorted(checked.organisation_of_team)
    still_teams = set(
        session.exec(select(Unit.id).where(col(Unit.id).in_(team_ids), Unit.kind == "team")).all()
    )
    for response, line in zip(checked.responses, checked.lines, strict=True):
        if response.team_id not in still_teams:
            problems.append(Problem(line, "this team changed during the import; try again", "team"))
            still_teams.add(response.team_id)  # once per team is enough
    problems += _released_problems(
        session, checked.responses, checked.lines, checked.organisation_of_team
    )
    if problems:
        raise ResponseImportError(problems)
    connection = session.connection()
    for week in sorted({response.week for response in checked.responses}):
        ensure_period(connection, week)
    write_responses(connection, checked.responses)
    imports.remember(
        session,
        kind=IMPORT_KIND,
        content_sha256=checked.content_sha256,
        rows=len(checked.responses),
    )
    return checked.summary()


def import_responses(
    session: Session,
    data: str | bytes,
    *,
    instrument: Instrument | str,
    known_names: Iterable[str] | None = None,
    allow_repeat: bool = False,
    today: date | None = None,
) -> ImportSummary:
    """Check every row, then write them all in the caller's transaction; or raise
    ``ResponseImportError`` listing every problem and write nothing."""
    checked = check_responses(
        session,
        data,
        instrument=instrument,
        known_names=known_names,
        allow_repeat=allow_repeat,
        today=today,
    )
    return store_responses(session, checked, allow_repeat=allow_repeat)


def import_responses_file(
    engine: Engine,
    data: str | bytes,
    *,
    instrument: Instrument | str,
    allow_repeat: bool = False,
    today: date | None = None,
) -> ImportSummary:
    """Check in a read-only session, then write in one short transaction (``import-responses``)."""
    with read_session(engine) as session:
        checked = check_responses(
            session, data, instrument=instrument, allow_repeat=allow_repeat, today=today
        )
    try:
        with write_session(engine) as session:
            return store_responses(session, checked, allow_repeat=allow_repeat)
    except IntegrityError as error:  # the same file imported by someone else meanwhile
        if "imported_file" not in str(error.orig):
            raise
        raise ResponseImportError(
            [Problem(0, "the same responses were imported by someone else just now")]
        ) from None
