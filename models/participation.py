"""Participation receipts: who answered, per period of the release calendar, never what.

Every submission writes, in the transaction of its answer, one receipt per period kind:
HMAC-SHA256(participation key, f"{person_id}:{period}") for the week, month, quarter and year that
hold its week (``models.calendar.periods_of_week``), each with the team the answer is stored
under. The week's receipt must be new (a second answer in a week is refused); a longer period's is
inserted only if absent. So a person counts once per period, in the team where they first answered
in it: "team membership as at the start of each period". Someone who moves team during a month
counts in their old team for that month (and its quarter and year) and in their new team from the
next month on (next quarter, next year); their answers themselves are stored under the team they
answered for, week by week.

``people_counts`` is how the privacy gate counts distinct people (k) without linking anyone to an
answer: receipts and responses share only the team and the period, which a figure states anyway.
Receipts written before migration 5b8e3d1f7a2c are week receipts without a team (counted by
nobody); imported history has no receipts at all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from models.base import week_monday
from models.batch_sql import existing, shuffle, write_rows
from models.calendar import periods_of_week
from models.pulse import ParticipationReceipt

_RECEIPT = ParticipationReceipt.__table__  # type: ignore[attr-defined]
_COLUMNS = ("period", "receipt", "team_id")
_IF_ABSENT = " ON CONFLICT (period, receipt) DO NOTHING"


def participation_receipt(participation_key: bytes, person_id: int, period: str) -> str:
    """HMAC-SHA256 of ``person_id:period``: names nobody without the key, unique per person and
    period (a week's receipt is the same as before periods of other kinds existed)."""
    return hmac.new(participation_key, f"{person_id}:{period}".encode(), hashlib.sha256).hexdigest()


def wider_receipts(participation_key: bytes, person_id: int, week: str) -> tuple[tuple[str, str], ...]:
    """(period, receipt) for the month, quarter and year that hold ``week`` (by its Thursday)."""
    return tuple(
        (period, participation_receipt(participation_key, person_id, period))
        for kind, period in periods_of_week(week).items()
        if kind != "week"
    )


@dataclass(frozen=True)
class Claim:
    """One submission's receipts: its week's (must be new) and its longer periods' (if absent):
    ``wider`` is ``wider_receipts``' (period, receipt) of the month, quarter and year, or empty."""

    week: str
    receipt: str
    team_id: int
    wider: tuple[tuple[str, str], ...]


def _wider_rows(claims: Sequence[Claim]) -> list[tuple[str, str, int]]:
    """The longer periods' receipts of these claims, each once: for a person answering two weeks
    of one month in the same batch, the month's receipt takes the earlier week's team."""
    rows: dict[tuple[str, str], int] = {}
    for claim in sorted(claims, key=lambda c: c.week):
        for period, receipt in claim.wider:
            rows.setdefault((period, receipt), claim.team_id)
    return [(period, receipt, team) for (period, receipt), team in rows.items()]


def claim_sqlite(connection: Connection, claims: Sequence[Claim]) -> list[bool]:
    """SQLite, under the writer's lock (``BEGIN IMMEDIATE``): write the claims whose week receipt
    is new; per claim, whether it was claimed here (False: this person already answered this
    week, or an earlier claim in the list is theirs). The caller has checked the teams.

    The week receipts are looked up (per week: the key's first column), then every new receipt,
    of all four kinds, is inserted by one ``executemany`` in one random order (longer periods'
    ``ON CONFLICT DO NOTHING``). A caller in a deferred transaction gets a failed insert instead,
    never a second answer: period and receipt are the primary key."""
    if not claims:
        return []
    first = {claim.receipt: claim for claim in reversed(claims)}  # first of a repeated receipt
    taken: set[str] = set()
    for week in {claim.week for claim in first.values()}:
        of_week = [receipt for receipt, claim in first.items() if claim.week == week]
        taken |= existing(connection, "participation_receipt", "receipt", of_week, period=week)
    fresh = [claim for receipt, claim in first.items() if receipt not in taken]
    rows = [(claim.week, claim.receipt, claim.team_id) for claim in fresh] + _wider_rows(fresh)
    shuffle(rows)
    write_rows(connection, _RECEIPT, _COLUMNS, rows, _IF_ABSENT)
    new = {claim.receipt for claim in fresh}
    claimed: list[bool] = []
    for claim in claims:
        claimed.append(claim.receipt in new)
        new.discard(claim.receipt)  # a second submission of the same person-week in one batch
    return claimed


# PostgreSQL: the weeks' pulse periods, the week receipts of claims whose team exists, and the
# longer periods' receipts of those claimed, in one statement (one round trip). A month's receipt
# is written with the quarter's and the year's (if absent), so a month receipt already there
# means they are too: the quarter's is tried only when the month's was new, the year's only when
# the quarter's was. After someone's first answer of a month, a submission writes or probes two
# rows, not four (each costs about as much: a conflict is an index probe, as an insert is).
_CHAINED = (
    ("new_month", "month", "month_receipt", None),
    ("new_quarter", "quarter", "quarter_receipt", "month_receipt IN (SELECT receipt FROM new_month)"),
    ("new_year", "year", "year_receipt", "quarter_receipt IN (SELECT receipt FROM new_quarter)"),
)
_CLAIM_SQL = (
    "WITH pulse_week AS (INSERT INTO pulse_period (week, starts_on, ends_on) "
    "SELECT * FROM unnest(%b::VARCHAR(8)[], %b::DATE[], %b::DATE[]) ON CONFLICT (week) DO NOTHING), "
    "claimed AS (INSERT INTO participation_receipt (period, receipt, team_id) "
    "SELECT t.period, t.receipt, t.team_id "
    "FROM unnest(%b::VARCHAR(64)[], %b::VARCHAR(8)[], %b::INTEGER[]) AS t(receipt, period, team_id) "
    "WHERE EXISTS (SELECT 1 FROM unit WHERE unit.id = t.team_id)" + _IF_ABSENT + " RETURNING receipt), "
    "wider AS (SELECT * FROM unnest(%b::VARCHAR(64)[], %b::VARCHAR(8)[], %b::VARCHAR(64)[], "
    "%b::VARCHAR(8)[], %b::VARCHAR(64)[], %b::VARCHAR(8)[], %b::VARCHAR(64)[], %b::INTEGER[]) "
    "WITH ORDINALITY AS w(week_receipt, month, month_receipt, quarter, quarter_receipt, year, "
    "year_receipt, team_id, position) WHERE w.week_receipt IN (SELECT receipt FROM claimed)), "
    + ", ".join(
        f"{name} AS (INSERT INTO participation_receipt (period, receipt, team_id) "
        f"SELECT {period}, {receipt}, team_id FROM wider"
        + (f" WHERE {condition}" if condition else "")
        + " ORDER BY position"
        + _IF_ABSENT
        + " RETURNING receipt)"
        for name, period, receipt, condition in _CHAINED
    )
    + " SELECT receipt FROM claimed"
)


def claim_postgres(connection: Connection, claims: Sequence[Claim]) -> set[str]:
    """PostgreSQL: the weeks' pulse periods and every claim's receipts in one statement; the week
    receipts claimed here (a claim whose team does not exist claims nothing). Rows go in, in
    random orders unrelated to the responses' (the longer periods' within each week)."""
    if not claims:
        return set()
    weeks = sorted({claim.week for claim in claims})
    mondays = [week_monday(week) for week in weeks]
    week_rows = [(claim.receipt, claim.week, claim.team_id) for claim in claims]
    shuffle(week_rows)
    wider_rows = [
        (claim.receipt, *(value for pair in claim.wider for value in pair), claim.team_id)
        for claim in claims
        if claim.wider
    ]
    shuffle(wider_rows)
    # A person's month goes to their earliest week in the batch (as on SQLite): rows in week order.
    weeks_of = {claim.receipt: claim.week for claim in claims}
    wider_rows.sort(key=lambda row: weeks_of[row[0]])
    # On the driver's cursor: SQLAlchemy's result cannot read rows inside a psycopg pipeline
    # (the caller sends its mark and this claim in one, ``surveys.submit``).
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            _CLAIM_SQL,
            (
                weeks,
                mondays,
                [monday + timedelta(days=6) for monday in mondays],
                *_columns(week_rows, 3),
                *_columns(wider_rows, 8),
            ),
        )
        return {row[0] for row in cursor.fetchall()}
    finally:
        cursor.close()


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    """Rows as one list per column (``unnest``'s arrays), also when there are none."""
    return [[row[i] for row in rows] for i in range(width)]


def has_answered(session: Session, *, person_id: int, week: str, participation_key: bytes) -> bool:
    """Whether this person's receipt for ``week`` exists (the "already answered" state)."""
    receipt = participation_receipt(participation_key, person_id, week)
    return session.get(ParticipationReceipt, (week, receipt)) is not None


def people_counts(
    session: Session, *, periods: Collection[str], team_ids: Collection[int] | None = None
) -> dict[tuple[int, str], int]:
    """Distinct people per (team id, period label): the number of receipts of that team and
    period (receipts without a team, from before teams were recorded, count nowhere). Pairs with
    nobody are absent."""
    if not periods or (team_ids is not None and not team_ids):
        return {}
    receipt = ParticipationReceipt
    query = (
        select(receipt.team_id, receipt.period, func.count())
        .where(col(receipt.period).in_(sorted(set(periods))))
        .where(col(receipt.team_id).is_not(None))
        .group_by(receipt.team_id, receipt.period)
    )
    if team_ids is not None:
        query = query.where(col(receipt.team_id).in_(sorted(set(team_ids))))
    return {(int(team), period): int(n) for team, period, n in session.exec(query)}  # type: ignore[call-overload]
