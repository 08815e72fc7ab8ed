"""Per-organisation settings that change only from the next period, with an audit entry.

Keys in use: ``min_group_size``, ``min_comment_group_size``, ``pooling_period`` (privacy gate) and
``pulse_composition`` (surveys). Values are JSON.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models import audit
from models.base import iso_week, week_monday
from models.outcomes import OrgSetting


def next_week(week: str) -> str:
    return iso_week(week_monday(week) + timedelta(days=7))


def get_org_setting(session: Session, *, organisation_id: int, key: str, week: str, default: Any) -> Any:
    """The value in force for ``week``: the newest row effective on or before it, else ``default``."""
    row = session.exec(
        select(OrgSetting)
        .where(
            OrgSetting.organisation_id == organisation_id,
            OrgSetting.key == key,
            OrgSetting.effective_from <= week,
        )
        .order_by(col(OrgSetting.effective_from).desc(), col(OrgSetting.id).desc())
    ).first()
    return default if row is None else json.loads(row.value)


def set_org_setting(
    session: Session,
    *,
    organisation_id: int,
    key: str,
    value: Any,
    actor: str,
    today: date | None = None,
) -> str:
    """Schedule ``value`` for ``key`` from the week after ``today``; records an audit entry.

    Returns the week from which it applies. A second change in the same week replaces the first.
    """
    effective = next_week(iso_week(today or date.today()))
    existing = session.exec(
        select(OrgSetting).where(
            OrgSetting.organisation_id == organisation_id,
            OrgSetting.key == key,
            OrgSetting.effective_from == effective,
        )
    ).first()
    if existing is None:
        session.add(
            OrgSetting(
                organisation_id=organisation_id,
                key=key,
                value=json.dumps(value),
                effective_from=effective,
                set_by=actor,
            )
        )
    else:
        existing.value = json.dumps(value)
        existing.set_by = actor
        session.add(existing)
    audit.record(
        session,
        actor=actor,
        action="setting_changed",
        target=f"organisation {organisation_id}",
        detail={"key": key, "value": value, "effective_from": effective},
    )
    return effective
