"""Outcome objectives, their key results and check-ins, and actions taken in response.

The progress and status rules live in ``analytics.outcomes``; these tables only store facts.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class ObjectiveBase(SQLModel):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    starts_on: date
    ends_on: date


class Objective(ObjectiveBase, table=True):
    """An outcome a team (or several, across organisations) commits to for a period."""

    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="period_order"),
        CheckConstraint(
            "status_override IS NULL OR status_override IN ('on_track', 'at_risk', 'off_track')",
            name="override_valid",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    closed: bool = Field(default=False)
    status_override: str | None = Field(default=None, max_length=20)
    override_reason: str | None = Field(default=None, max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class ObjectiveCreate(ObjectiveBase):
    pass


class ObjectiveTeam(SQLModel, table=True):
    """Which teams share an objective (teams may belong to different organisations)."""

    __tablename__ = "objective_team"
    objective_id: int = Field(primary_key=True, foreign_key="objective.id", ondelete="CASCADE")
    team_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="CASCADE", index=True)


class KeyResultBase(SQLModel):
    metric_name: str = Field(max_length=200)
    unit: str = Field(default="", max_length=40)
    baseline: float
    target: float
    direction: str = Field(default="increase", max_length=10)
    due_date: date
    weight: float = Field(default=1.0)


class KeyResult(KeyResultBase, table=True):
    """A measurable result: from ``baseline`` toward ``target`` in ``direction``."""

    __tablename__ = "key_result"
    __table_args__ = (
        CheckConstraint("direction IN ('increase', 'decrease')", name="direction_valid"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("baseline <> target", name="baseline_not_target"),
        CheckConstraint(
            "(direction = 'increase' AND target > baseline) OR "
            "(direction = 'decrease' AND target < baseline)",
            name="direction_matches_target",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    objective_id: int = Field(foreign_key="objective.id", index=True, ondelete="CASCADE")


class KeyResultCreate(KeyResultBase):
    pass


class CheckInBase(SQLModel):
    checked_on: date
    value: float
    confidence: int = Field(ge=0, le=10)
    note: str = Field(default="", max_length=1000)


class CheckIn(CheckInBase, table=True):
    """A progress update on a key result."""

    __tablename__ = "check_in"
    __table_args__ = (CheckConstraint("confidence BETWEEN 0 AND 10", name="confidence_range"),)
    id: int | None = Field(default=None, primary_key=True)
    key_result_id: int = Field(foreign_key="key_result.id", index=True, ondelete="CASCADE")
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class CheckInCreate(CheckInBase):
    pass


class Action(SQLModel, table=True):
    """What a manager did in response to a flag or a slipping key result ("you said, we did")."""

    __table_args__ = (
        CheckConstraint("status IN ('planned', 'in_progress', 'done')", name="status_valid"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="unit.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    trigger: str = Field(default="", max_length=200)  # e.g. "strain flag" or "key result 12"
    key_result_id: int | None = Field(default=None, foreign_key="key_result.id", ondelete="SET NULL")
    status: str = Field(default="planned", max_length=20)
    taken_on: date
    created_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")


class OrgSetting(SQLModel, table=True):
    """A per-organisation setting (thresholds, pulse composition) that applies from a week on.

    Changes never apply retroactively: the writer sets ``effective_from`` to the next week, and
    readers take the latest row whose ``effective_from`` is not after the week they ask about.
    """

    __tablename__ = "org_setting"
    __table_args__ = (
        UniqueConstraint("organisation_id", "key", "effective_from", name="uq_org_setting_key_week"),
    )
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="unit.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=60)
    value: str = Field(max_length=2000)  # JSON text
    effective_from: str = Field(max_length=8)  # ISO week
    set_by: str = Field(default="", max_length=254)
    set_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did or viewed what, and when. Pulse submissions are never audited (that would time them)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=254, index=True)
    action: str = Field(max_length=60, index=True)
    target: str = Field(default="", max_length=200)
    detail: str = Field(default="", max_length=4000)
