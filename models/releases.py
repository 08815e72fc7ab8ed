"""The store of frozen releases: every figure the privacy gate has released, computed once.

A period of the release calendar (``models.calendar``) is released for an organisation once it has
closed and its grace period for late answers has passed. Its figures are then computed by the gate
(``analytics.privacy``), written here in one transaction, and never revised: two versions of one
figure would differ by exactly the late answers. Pages and exports read only these rows, so a
figure shown is a figure stored, and nothing is shown for a period still open.

Only released values are stored (rounded means, banded counts, the reason a cell is suppressed),
never the exact sums behind them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from sqlalchemy import CheckConstraint, Connection, Index
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from models import calendar


class PeriodRelease(SQLModel, table=True):
    """One released period of one organisation (the marker that freezes it)."""

    __tablename__ = "period_release"
    organisation_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="CASCADE")
    period: str = Field(primary_key=True, max_length=8)
    kind: str = Field(max_length=8)
    first_week: str = Field(max_length=8)
    last_week: str = Field(max_length=8)
    released_on: date


class ReleasedFigure(SQLModel, table=True):
    """One cell of a released period: a unit's figure for one construct (and work pattern, for a
    slice), or the reason it is suppressed. ``construct_id`` ``responses`` is the participation cell."""

    __tablename__ = "released_figure"
    __table_args__ = (
        CheckConstraint(
            "suppressed OR mean IS NOT NULL OR construct_id = 'responses'", name="mean_if_shown"
        ),
        Index("ix_released_figure_unit_period", "unit_id", "period"),
    )
    organisation_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="CASCADE")
    period: str = Field(primary_key=True, max_length=8)
    unit_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="CASCADE")
    construct_id: str = Field(primary_key=True, max_length=40)
    work_pattern: str = Field(primary_key=True, max_length=10, default="")  # "" = all patterns
    kind: str = Field(max_length=8)
    mean: float | None = None
    n: str | None = Field(default=None, max_length=12)  # people: exact from 10, else a band
    rate: str | None = Field(default=None, max_length=12)  # response rate text, participation only
    suppressed: bool = True
    reason: str | None = Field(default=None, max_length=80)


class ReleasedComment(SQLModel, table=True):
    """A comment released with its closed period, stored in an order that carries no time."""

    __tablename__ = "released_comment"
    id: str = Field(primary_key=True, max_length=32)  # random
    organisation_id: int = Field(foreign_key="unit.id", ondelete="CASCADE")
    period: str = Field(max_length=8, index=True)
    unit_id: int = Field(foreign_key="unit.id", ondelete="CASCADE")
    text: str = Field(max_length=500)


class ReleasedPeriodError(ValueError):
    """Answers for a period already released: refused whole, the period named."""


def released_periods(session: Session, *, organisation_id: int) -> list[str]:
    """The labels of every period released for an organisation."""
    return list(
        session.exec(
            select(PeriodRelease.period).where(PeriodRelease.organisation_id == organisation_id)
        ).all()
    )


def released_weeks(session: Session, *, organisation_ids: Iterable[int]) -> dict[int, set[str]]:
    """Per organisation: every week inside one of its released periods (answers there are refused)."""
    ids = sorted(set(organisation_ids))
    result: dict[int, set[str]] = {organisation_id: set() for organisation_id in ids}
    if not ids:
        return result
    rows = session.exec(
        select(PeriodRelease.organisation_id, PeriodRelease.period).where(
            col(PeriodRelease.organisation_id).in_(ids)
        )
    ).all()
    for organisation_id, period in rows:
        result[organisation_id].update(calendar.weeks_in(period))
    return result


def released_weeks_among(connection: Connection, weeks: Collection[str]) -> set[str]:
    """Which of these weeks lie inside a released period (one small query for a whole batch of
    submissions; every organisation is released on the same calendar)."""
    if not weeks:
        return set()
    table = PeriodRelease.__table__  # type: ignore[attr-defined]
    rows = connection.execute(
        sa_select(table.c.first_week, table.c.last_week).where(
            table.c.first_week <= max(weeks), table.c.last_week >= min(weeks)
        )
    ).all()
    return {week for week in weeks for first, last in rows if first <= week <= last}


def refuse_released(session: Session, *, organisation_id: int, weeks: Iterable[str]) -> None:
    """Raise ReleasedPeriodError naming the released period that holds the first such week."""
    closed = released_weeks(session, organisation_ids=[organisation_id])[organisation_id]
    for week in sorted(set(weeks)):
        if week in closed:
            holders = [
                period
                for period in released_periods(session, organisation_id=organisation_id)
                if week in calendar.weeks_in(period)
            ]
            named = min(holders, key=lambda p: len(calendar.weeks_in(p)))
            raise ReleasedPeriodError(
                f"{week} belongs to {named}, which has already been released; its figures are "
                "frozen, so answers for it can no longer be added"
            )
