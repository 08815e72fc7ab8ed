"""Shared metadata settings and small helpers for every table module.

Named constraints matter: Alembic's batch mode on SQLite can only alter what it can name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now; SQLModel 0.0.50 refuses naive datetimes on bind."""
    return datetime.now(UTC)


def iso_week(day: date) -> str:
    """The ISO week label of a day, e.g. ``2026-W14``; labels sort in time order."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday that starts an ISO week label; raises ValueError on a malformed label."""
    try:
        year_text, week_text = week.split("-W")
        return date.fromisocalendar(int(year_text), int(week_text), 1)
    except (ValueError, AttributeError) as error:
        raise ValueError(f"{week!r} is not an ISO week such as 2026-W14") from error
