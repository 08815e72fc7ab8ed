"""What the reminder job may show: banded counts, released figures, and whether reminders help.

Everything here reads either the store of releases (``analytics.privacy.views``) or the job's
counts per run and team (``models.reminders``), for closed weeks only:

- ``count_band`` shows a count of messages as the gate shows people (exact from 10, else a band).
- ``released_participation_line`` is the only figure a channel post may quote: the organisation's
  response rate in its latest released week, as released (never a live count of the open week).
- ``reminder_effect`` is the HR page: per released week, invitations and reminders sent (banded),
  and the response rate before the reminder beside the released rate after it, the split
  suppressed where either side stands on fewer than k people.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlmodel import Session, col, select

from analytics.privacy.rules import (
    EXACT_COUNT_FROM,
    PARTICIPATION,
    SYSTEM_VIEWER,
    PrivacyRules,
    band,
    band_bounds,
    rate_text,
    rules_for_period,
)
from analytics.privacy.views import organisation_figures, released_periods, require_hr
from models.access import Viewer
from models.org import Unit
from models.reminders import ReminderCount, ReminderRun

EFFECT_COLUMNS: tuple[str, ...] = (
    "week",
    "invitations sent",
    "reminders sent",
    "response before the reminder",
    "answered after the reminder",
    "response at close",
    "note",
)
SUPPRESSED_SPLIT = "before/after split not shown: fewer than {k} people on one side"


def count_band(n: int) -> str:
    """A count of messages, shown like a released count of people: "0", "1-4", "5-9", exact
    from 10 (``analytics.privacy.rules.band`` above its floor)."""
    if n <= 0:
        return "0"
    return band(n) if n >= 5 else "1-4"


def _organisation_cell(
    session: Session, organisation_id: int, periods: Sequence[str]
) -> dict[str, dict[str, object]]:
    """Per period: the organisation's own released participation cell (n, rate, suppressed)."""
    if not periods:
        return {}
    code = session.get(Unit, organisation_id).code  # type: ignore[union-attr]
    figures = organisation_figures(
        session=session,
        viewer=SYSTEM_VIEWER,
        kind="week",
        periods=list(periods),
        constructs=[PARTICIPATION],
        organisation_id=organisation_id,
    )
    rows = figures[figures["unit"] == code] if not figures.empty else figures
    return {str(row["period"]): dict(row) for _, row in rows.iterrows()}


def released_participation_line(session: Session, organisation_id: int) -> str | None:
    """The latest released week's response rate for the whole organisation, as released."""
    weeks = released_periods(session, organisation_id=organisation_id, kind="week")
    if not weeks:
        return None
    latest = weeks[-1]
    cell = _organisation_cell(session, organisation_id, [latest]).get(latest)
    if not cell or cell.get("suppressed") or not cell.get("rate"):
        return None
    return f"In the last closed week ({latest}), {cell['rate']} of us answered. Thank you!"


def reminder_effect(
    session: Session, viewer: Viewer, *, organisation_id: int, rules: PrivacyRules, weeks: int = 26
) -> pd.DataFrame:
    """Per released week (newest first, at most ``weeks``): messages sent and the response rate
    before and after the reminder, for HR. Nothing for a week that is still open."""
    require_hr(viewer)
    released = released_periods(session, organisation_id=organisation_id, kind="week")[-weeks:]
    if not released:
        return pd.DataFrame(columns=list(EFFECT_COLUMNS))
    cells = _organisation_cell(session, organisation_id, released)
    runs = session.exec(
        select(ReminderRun.id, ReminderRun.week, ReminderRun.slot).where(
            ReminderRun.organisation_id == organisation_id, col(ReminderRun.week).in_(released)
        )
    ).all()
    counts: dict[int, list[ReminderCount]] = {}
    run_ids = [int(run_id) for run_id, _, _ in runs]  # type: ignore[arg-type]
    if run_ids:
        for row in session.exec(select(ReminderCount).where(col(ReminderCount.run_id).in_(run_ids))):
            counts.setdefault(row.run_id, []).append(row)
    rows = []
    for week in reversed(released):
        week_runs = sorted((run_id, slot) for run_id, w, slot in runs if w == week)
        invitations = sum(
            c.sent for run_id, slot in week_runs if slot == 0 for c in counts.get(run_id, [])
        )
        reminders = sum(
            c.sent for run_id, slot in week_runs if slot >= 1 for c in counts.get(run_id, [])
        )
        first_reminder = next((run_id for run_id, slot in week_runs if slot >= 1), None)
        k = rules_for_period(
            session, organisation_id=organisation_id, period=week, defaults=rules
        ).min_group_size
        cell = cells.get(week, {})
        row = {
            "week": week,
            "invitations sent": count_band(invitations),
            "reminders sent": count_band(reminders),
            "response before the reminder": None,
            "answered after the reminder": None,
            "response at close": None if cell.get("suppressed", True) else cell.get("rate"),
            "note": "",
        }
        if first_reminder is None:
            row["note"] = "no reminder was sent"
        else:
            _split(row, counts.get(first_reminder, []), cell, k)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def _split(
    row: dict[str, object], snapshot: list[ReminderCount], cell: dict[str, object], k: int
) -> None:
    """Fill the before/after columns, or say why they are suppressed. The final count must be
    exact (released at 10 or more), and both sides at least k people."""
    before = sum(c.answered for c in snapshot)
    eligible = sum(c.eligible for c in snapshot)
    released_n = cell.get("n")
    if cell.get("suppressed", True) or not released_n:
        row["note"] = "the week's participation is suppressed"
        return
    low, high = band_bounds(str(released_n))
    after = low - before
    if low != high or low < EXACT_COUNT_FROM or before < k or after < k:
        row["note"] = SUPPRESSED_SPLIT.format(k=k)
        return
    row["response before the reminder"] = rate_text(before, eligible)
    row["answered after the reminder"] = band(after)
