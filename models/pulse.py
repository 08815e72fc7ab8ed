"""Anonymous pulse storage, kept apart from participation by design.

- ``PulseResponse`` holds a random id, the team, the ISO week, the instrument version and the
  answers. No person id, no email, no timestamp, no autoincrement id: nothing orders or links a
  response to a receipt.
- ``ParticipationReceipt`` is an HMAC of (person, week) under the participation key; it stops a
  second answer and counts participation, and names nobody without the key.
- ``TeamWeekScore`` is the maintained weekly aggregate per team, construct and work pattern,
  updated in the submission's transaction so dashboards cost teams x weeks, not responses.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Column, Float, ForeignKeyConstraint, Integer
from sqlmodel import Field, SQLModel


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
    )
    id: str = Field(primary_key=True, max_length=32)  # uuid4 hex: random, orders nothing
    team_id: int = Field(foreign_key="unit.id", index=True, ondelete="RESTRICT")
    week: str = Field(foreign_key="pulse_period.week", index=True, max_length=8)
    instrument_version: str = Field(max_length=80)
    days_home: int | None = None
    days_office: int | None = None
    days_site: int | None = None
    work_pattern: str = Field(default="unknown", max_length=10)
    comment: str | None = Field(default=None, max_length=500)


class PulseAnswer(SQLModel, table=True):
    """One item's answer within a response (raw value on the item's own scale)."""

    __tablename__ = "pulse_answer"
    __table_args__ = (
        ForeignKeyConstraint(["response_id"], ["pulse_response.id"], ondelete="CASCADE"),
        CheckConstraint("value BETWEEN 0 AND 10", name="value_range"),
    )
    response_id: str = Field(primary_key=True, max_length=32)
    item_id: str = Field(primary_key=True, max_length=40)
    value: int = Field(sa_column=Column(Integer, nullable=False))


class PulseScore(SQLModel, table=True):
    """A response's score on one construct, computed by its instrument's scoring at submission."""

    __tablename__ = "pulse_score"
    __table_args__ = (ForeignKeyConstraint(["response_id"], ["pulse_response.id"], ondelete="CASCADE"),)
    response_id: str = Field(primary_key=True, max_length=32)
    construct_id: str = Field(primary_key=True, max_length=40, index=True)
    score: float = Field(sa_column=Column(Float, nullable=False))


class ParticipationReceipt(SQLModel, table=True):
    """Proof that someone answered in a week: HMAC(participation key, person id, week)."""

    __tablename__ = "participation_receipt"
    receipt: str = Field(primary_key=True, max_length=64)
    week: str = Field(foreign_key="pulse_period.week", index=True, max_length=8)


class TeamWeekScore(SQLModel, table=True):
    """Maintained sums per (team, week, construct, work pattern): additive, so pooling and roll-up
    are sums. ``n`` responses, ``total`` = sum of scores, ``total_sq`` = sum of squared scores."""

    __tablename__ = "team_week_score"
    __table_args__ = (CheckConstraint("n >= 0", name="n_nonnegative"),)
    team_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="RESTRICT")
    week: str = Field(primary_key=True, foreign_key="pulse_period.week", max_length=8)
    construct_id: str = Field(primary_key=True, max_length=40)
    work_pattern: str = Field(primary_key=True, max_length=10)
    n: int = Field(default=0)
    total: float = Field(default=0.0)
    total_sq: float = Field(default=0.0)


class TeamWeekResponses(SQLModel, table=True):
    """Maintained count of responses per (team, week), whatever was answered: the numerator of
    the response rate (participation over active members)."""

    __tablename__ = "team_week_responses"
    __table_args__ = (CheckConstraint("n >= 0", name="n_nonnegative"),)
    team_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="RESTRICT")
    week: str = Field(primary_key=True, foreign_key="pulse_period.week", max_length=8)
    n: int = Field(default=0)
    comments: int = Field(default=0)
