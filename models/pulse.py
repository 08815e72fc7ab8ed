"""Anonymous pulse storage, kept apart from participation by design.

- ``PulseResponse`` holds a random id, the team, the ISO week, the instrument version, the answers
  and their construct scores. No person id, no email, no timestamp, no autoincrement id: nothing
  orders or links a response to a receipt. Answers and scores are JSON objects in the response's
  own row (``{"who5_1": 4, ...}``): a submission writes one row, not twenty at scattered places in
  tables of ten million rows, which is what a burst of 200 submissions spent its time on. The views
  ``pulse_answer`` and ``pulse_score`` list them one per row for SQL readers (analysts, the
  benchmark's reference GROUP BY, the tests' recomputations).
- ``ParticipationReceipt`` is an HMAC of (person, period) under the participation key, one per
  period kind; the week's stops a second answer, and a team's receipts count its distinct people
  per period. It names nobody without the key.
- ``TeamWeekScore`` is the maintained weekly aggregate per team, construct and work pattern,
  updated in the submission's transaction so dashboards cost teams x weeks, not responses. Like
  ``TeamWeekResponses`` it is derived data, without foreign keys of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import DDL, JSON, CheckConstraint, Column, Index, Table, event, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

# JSON text on SQLite, binary JSONB on PostgreSQL (parsed once, quick to expand in the views).
JSON_DOCUMENT = JSON().with_variant(JSONB(), "postgresql")


# The maintained sums are updated by every submission. PostgreSQL: pages kept 30% free let an
# update stay on its page without a new index entry (a HOT update), which halved the time of a
# batch's 1,000 upserts.
UPDATED_IN_PLACE = {"postgresql_with": {"fillfactor": 70}}


class PulsePeriod(SQLModel, table=True):
    """An ISO week in which the pulse runs (``2026-W14``); labels sort in time order."""

    __tablename__ = "pulse_period"
    week: str = Field(primary_key=True, max_length=8)
    starts_on: date
    ends_on: date


class PulseResponse(SQLModel, table=True):
    """One anonymous answer to the weekly pulse."""

    __tablename__ = "pulse_response"
    __table_args__ = (
        CheckConstraint("days_home IS NULL OR days_home BETWEEN 0 AND 7", name="days_home_range"),
        CheckConstraint("days_office IS NULL OR days_office BETWEEN 0 AND 7", name="days_office_range"),
        CheckConstraint("days_site IS NULL OR days_site BETWEEN 0 AND 7", name="days_site_range"),
        CheckConstraint(
            "COALESCE(days_home, 0) + COALESCE(days_office, 0) + COALESCE(days_site, 0) <= 7",
            name="days_total",
        ),
        CheckConstraint(
            "work_pattern IN ('home', 'office', 'site', 'hybrid', 'unknown')", name="work_pattern_valid"
        ),
        # One index for reads by team and weeks (comments, instrument versions): each index is one
        # more place a submission writes to, at random, in a table of a million rows.
        Index("ix_pulse_response_team_id_week", "team_id", "week"),
    )
    id: str = Field(primary_key=True, max_length=32)  # uuid4 hex: random, orders nothing
    team_id: int = Field(foreign_key="unit.id", ondelete="RESTRICT")
    week: str = Field(foreign_key="pulse_period.week", max_length=8)
    instrument_version: str = Field(max_length=80)
    days_home: int | None = None
    days_office: int | None = None
    days_site: int | None = None
    work_pattern: str = Field(default="unknown", max_length=10)
    comment: str | None = Field(default=None, max_length=500)
    # Item id -> raw value on the item's own scale; construct id -> score from the instrument's
    # scoring at submission. Keys sorted; validated by the composition before they get here.
    answers: dict[str, Any] = Field(sa_column=Column(JSON_DOCUMENT, nullable=False))
    scores: dict[str, Any] = Field(sa_column=Column(JSON_DOCUMENT, nullable=False))


class ParticipationReceipt(SQLModel, table=True):
    """Proof that someone answered in a period: HMAC(participation key, person id, period label),
    one per period kind (week, month, quarter, year; ``models.participation``).

    The week's receipt refuses a second answer in a week; a longer period's receipt is written
    with a person's first answer in it, under that answer's team, so a team's distinct people in a
    period is a count of receipts. Imported history has none, and receipts from before migration
    5b8e3d1f7a2c have no team (``team_id`` NULL: they cannot be, and are not, linked to one).

    Keyed by period first: the HMAC is random, so keyed by it alone every new receipt landed on a
    random page of an index that grows by a million receipts a year. A period's receipts sit
    together, in the random order of their HMACs. On SQLite the table has no rowid (``WITHOUT
    ROWID``): its one B-tree is the key, so nothing records the order receipts were written in."""

    __tablename__ = "participation_receipt"
    __table_args__ = {"sqlite_with_rowid": False}
    period: str = Field(primary_key=True, max_length=8)
    receipt: str = Field(primary_key=True, max_length=64)
    team_id: int | None = Field(default=None)


class UnsealedWeek(SQLModel, table=True):
    """A week with pulse rows written since its storage was last sealed (``models.at_rest``):
    marked in the transaction that writes them, cleared by the seal that rewrites them. Says
    nothing finer than the week; it is what lets any process (the next server, ``wellbeing
    seal``, ``wellbeing backup``) finish a seal that another did not."""

    __tablename__ = "unsealed_week"
    week: str = Field(primary_key=True, max_length=8)


class TeamWeekScore(SQLModel, table=True):
    """Maintained sums per (team, week, construct, work pattern): additive, so pooling and roll-up
    are sums. ``n`` responses, ``total`` = sum of scores, ``total_sq`` = sum of squared scores."""

    __tablename__ = "team_week_score"
    __table_args__ = (CheckConstraint("n >= 0", name="n_nonnegative"), UPDATED_IN_PLACE)
    # No foreign keys: the responses summed here, written in the same transaction, hold them; on
    # the sums they were a third of a new week's first batch (migration a71c0e5d2b94).
    team_id: int = Field(primary_key=True)
    week: str = Field(primary_key=True, max_length=8)
    construct_id: str = Field(primary_key=True, max_length=40)
    work_pattern: str = Field(primary_key=True, max_length=10)
    n: int = Field(default=0)
    total: float = Field(default=0.0)
    total_sq: float = Field(default=0.0)


class TeamWeekResponses(SQLModel, table=True):
    """Maintained count of responses per (team, week), whatever was answered: the numerator of
    the response rate (participation over active members)."""

    __tablename__ = "team_week_responses"
    __table_args__ = (CheckConstraint("n >= 0", name="n_nonnegative"), UPDATED_IN_PLACE)
    team_id: int = Field(primary_key=True)  # no foreign keys, as in TeamWeekScore
    week: str = Field(primary_key=True, max_length=8)
    n: int = Field(default=0)
    comments: int = Field(default=0)


# One row per answer and per score, read from the responses' JSON: the columns of the tables these
# views replace (migration 3c8e2a41f5d7), so SQL written against those still reads the same, plus
# the response's team, week and work pattern, so most questions need no join.
PULSE_VIEWS = {
    "sqlite": (
        "CREATE VIEW pulse_answer AS SELECT r.id AS response_id, a.key AS item_id, "
        "a.value AS value, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r, json_each(r.answers) a",
        "CREATE VIEW pulse_score AS SELECT r.id AS response_id, s.key AS construct_id, "
        "s.value AS score, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r, json_each(r.scores) s",
    ),
    "postgresql": (
        "CREATE VIEW pulse_answer AS SELECT r.id AS response_id, a.key AS item_id, "
        "(a.value)::integer AS value, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r CROSS JOIN LATERAL jsonb_each(r.answers) a",
        "CREATE VIEW pulse_score AS SELECT r.id AS response_id, s.key AS construct_id, "
        "(s.value)::double precision AS score, r.team_id, r.week, r.work_pattern "
        "FROM pulse_response r CROSS JOIN LATERAL jsonb_each(r.scores) s",
    ),
}
_RESPONSE_TABLE = PulseResponse.__table__  # type: ignore[attr-defined]
for _dialect, _views in PULSE_VIEWS.items():
    for _view in _views:
        event.listen(_RESPONSE_TABLE, "after_create", DDL(_view).execute_if(dialect=_dialect))


@event.listens_for(_RESPONSE_TABLE, "before_drop")
def _drop_views(_table: Table, connection: Connection, **_: Any) -> None:
    """``metadata.drop_all``: the views go before the table they read (in a database from before
    migration 3c8e2a41f5d7, the tables of those names go instead: they refer to it)."""
    inspector = inspect(connection)
    views, tables = set(inspector.get_view_names()), set(inspector.get_table_names())
    for name in ("pulse_score", "pulse_answer"):
        if name in views:
            connection.exec_driver_sql(f"DROP VIEW {name}")
        elif name in tables:
            connection.exec_driver_sql(f"DROP TABLE {name}")
