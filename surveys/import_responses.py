"""Import anonymous responses from an earlier survey: all-or-nothing, every bad row listed.

CSV columns: ``team`` (team code), ``period`` (ISO week such as ``2026-W14``), one column per item
id of the instrument, and optionally ``days_home``, ``days_office``, ``days_site`` and ``comment``.
Rows are validated with the same rules as a submission (scales, days, comment length) and scored
by the instrument; comments are scrubbed. No participation receipts are written: the earlier
survey's participation is unknown, so response rates for imported weeks have no denominator.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from models.org import Unit
from surveys.comments import MAX_COMMENT_LENGTH, scrub_comment
from surveys.composition import Composition, InvalidAnswers
from surveys.instruments import Instrument, get_instrument
from surveys.submit import MAX_DAYS, check_week, ensure_period, person_names, write_response

DAY_COLUMNS = ("days_home", "days_office", "days_site")
OPTIONAL_COLUMNS = (*DAY_COLUMNS, "comment")


class ResponseImportError(ValueError):
    """The file was refused and nothing was stored; ``problems`` are "line N: ..." messages."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s), nothing imported:\n" + "\n".join(problems))


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
class _Row:
    team_id: int
    week: str
    answers: dict[str, int]
    days: tuple[int | None, int | None, int | None]
    comment: str | None


def _whole_number(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _parse_row(
    line: int, raw: dict[str, str | None], composition: Composition, teams: dict[str, int]
) -> tuple[_Row | None, list[str]]:
    problems: list[str] = []
    values = {key: (value or "").strip() for key, value in raw.items() if key is not None}
    if None in raw:
        problems.append(f"line {line}: more fields than columns in the header")
    team_id = teams.get(values.get("team", ""))
    if team_id is None:
        problems.append(f"line {line}: unknown team {values.get('team', '')!r}")
    week = values.get("period", "")
    try:
        check_week(week)
    except ValueError as error:
        problems.append(f"line {line}: period {error}")
    answers: dict[str, int | str | None] = {}
    for item_id in composition.item_ids:
        text = values.get(item_id, "")
        number = _whole_number(text) if text else None
        answers[item_id] = number if number is not None or not text else text
    try:
        clean = composition.validate(answers)
    except InvalidAnswers as error:
        problems.extend(f"line {line}: {problem}" for problem in error.problems)
        clean = {}
    days: list[int | None] = []
    for column in DAY_COLUMNS:
        text = values.get(column, "")
        number = _whole_number(text) if text else None
        if text and (number is None or not 0 <= number <= MAX_DAYS):
            problems.append(f"line {line}: {column} {text!r} is not a whole number of days 0-{MAX_DAYS}")
        days.append(number)
    if sum(d or 0 for d in days) > MAX_DAYS:
        problems.append(
            f"line {line}: days at home, at an office and on site add up to more than {MAX_DAYS}"
        )
    comment = values.get("comment") or None
    if comment is not None and len(comment) > MAX_COMMENT_LENGTH:
        problems.append(
            f"line {line}: comment has {len(comment)} characters; the most is {MAX_COMMENT_LENGTH}"
        )
    if problems:
        return None, problems
    return _Row(team_id, week, clean, (days[0], days[1], days[2]), comment), []  # type: ignore[arg-type]


def import_responses(
    session: Session,
    text: str,
    *,
    instrument: Instrument | str,
    known_names: Iterable[str] | None = None,
) -> ImportSummary:
    """Validate every row, then write them all in the caller's transaction; or raise
    ``ResponseImportError`` listing every bad row by line number and write nothing."""
    chosen = get_instrument(instrument) if isinstance(instrument, str) else instrument
    composition = Composition.whole(chosen)
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    required = ["team", "period", *composition.item_ids]
    missing = [name for name in required if name not in header]
    unknown = [name for name in header if name not in required and name not in OPTIONAL_COLUMNS]
    header_problems = []
    if missing:
        header_problems.append(f"line 1: missing column(s) {', '.join(missing)}")
    if unknown:
        header_problems.append(
            f"line 1: unknown column(s) {', '.join(unknown)} (the {chosen.id} item ids are "
            f"{', '.join(composition.item_ids)})"
        )
    if header_problems:
        raise ResponseImportError(header_problems)

    teams = dict(session.exec(select(Unit.code, Unit.id)).all())
    rows: list[_Row] = []
    problems: list[str] = []
    for raw in reader:
        row, row_problems = _parse_row(reader.line_num, raw, composition, teams)  # type: ignore[arg-type]
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    if problems:
        raise ResponseImportError(problems)
    if not rows:
        raise ResponseImportError(["line 2: the file has no responses"])

    names = tuple(sorted(set(known_names))) if known_names is not None else person_names(session)
    connection = session.connection()
    scrubbed = 0
    for week in sorted({row.week for row in rows}):
        ensure_period(connection, week)
    for row in rows:
        comment = None
        if row.comment:
            result = scrub_comment(row.comment, names)
            comment, scrubbed = result.text or None, scrubbed + int(result.changed)
        write_response(
            connection,
            team_id=row.team_id,
            week=row.week,
            composition=composition,
            answers=row.answers,
            days=row.days,
            comment=comment,
        )
    return ImportSummary(
        responses=len(rows),
        weeks=tuple(sorted({row.week for row in rows})),
        teams=len({row.team_id for row in rows}),
        comments_scrubbed=scrubbed,
    )
