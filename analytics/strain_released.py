"""Strain detection's inputs built from released figures only (the store of frozen releases).

Strain reads no answer the gate has not released. For each assessed team and week it takes the
figure that stands for the team: its own week if released, else its own month or quarter (pooled).
A released figure is a rounded mean and a people count (exact from 10, else a band, of which the
lower bound is used), so sums are rebuilt as ``n x mean``; the spread within a team, which no cell
releases, comes from one organisation-wide pooled within-team variance per construct (a statistic
over hundreds of people, never shown). Everything strain prints is therefore a function of figures
already released.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from analytics.privacy.rules import PARTICIPATION, band_bounds
from analytics.privacy.views import stored_cells
from models import calendar
from models.pulse import TeamWeekScore

STANDING: tuple[calendar.PeriodKind, ...] = ("week", "month", "quarter")
SUMS_COLUMNS = ["team_id", "week", "construct", "n", "total", "total_sq"]


def _standing_cells(
    session: Session, *, weeks: Sequence[str], team_ids: Sequence[int], constructs: Sequence[str]
) -> dict[tuple[int, str, str], tuple[float, int]]:
    """(team, week, construct) -> (released mean or nan, people) from the cell standing for it."""
    standing = {week: [calendar.period_of(week, kind) for kind in STANDING] for week in weeks}
    periods = sorted({label for labels in standing.values() for label in labels})
    cells = stored_cells(session, periods=periods, unit_ids=list(team_ids), constructs=list(constructs))
    released = cells[~cells["suppressed"]] if not cells.empty else cells
    index = {
        (int(row.unit_id), row.period, row.construct_id): (
            float(row.mean) if row.mean is not None and row.mean == row.mean else float("nan"),
            band_bounds(str(row.n))[0],
        )
        for row in released.itertuples(index=False)
    }
    found: dict[tuple[int, str, str], tuple[float, int]] = {}
    for team_id in team_ids:
        for week in weeks:
            for construct in constructs:
                for period in standing[week]:
                    cell = index.get((int(team_id), period, construct))
                    if cell is not None:
                        found[(int(team_id), week, construct)] = cell
                        break
    return found


def pooled_within_variance(
    session: Session, *, weeks: Sequence[str], constructs: Sequence[str]
) -> dict[str, float]:
    """Per construct: the within-team variance pooled over every team and week of the window."""
    if not weeks:
        return {}
    rows = (
        session.connection()
        .execute(
            sa_select(
                TeamWeekScore.construct_id,
                func.sum(TeamWeekScore.total_sq),
                func.sum(TeamWeekScore.total),
                func.sum(TeamWeekScore.n),
            )
            .where(
                TeamWeekScore.week >= min(weeks),
                TeamWeekScore.week <= max(weeks),
                col(TeamWeekScore.construct_id).in_(list(constructs)),
                TeamWeekScore.n > 0,
            )
            .group_by(TeamWeekScore.construct_id)
        )
        .all()
    )
    variances: dict[str, float] = {}
    for construct, total_sq, total, n in rows:
        if n and n > 1:
            variances[str(construct)] = max(0.0, (float(total_sq) - float(total) ** 2 / n) / (n - 1))
    return variances


def released_sums(
    session: Session,
    *,
    weeks: Sequence[str],
    team_ids: Sequence[int],
    constructs: Sequence[str],
    within: dict[str, float],
) -> pd.DataFrame:
    """Per team, week and construct, sums rebuilt from the released figure standing for it."""
    found = _standing_cells(session, weeks=weeks, team_ids=team_ids, constructs=constructs)
    rows = [
        (team_id, week, construct, n, n * mean, n * (mean * mean + within.get(construct, 0.0)))
        for (team_id, week, construct), (mean, n) in found.items()
        if n > 0 and mean == mean
    ]
    frame = pd.DataFrame(rows, columns=SUMS_COLUMNS)
    return frame.astype({"team_id": int, "n": int, "total": float, "total_sq": float})


def released_answers(
    session: Session, *, before: Sequence[str], weeks: Sequence[str], team_ids: Sequence[int]
) -> pd.DataFrame:
    """People who answered per team in the weeks before the window (``late`` False) and in it
    (``late`` True), from released participation figures (a band counts as its lower bound; a
    week pooled into its month counts the month's people)."""
    found = _standing_cells(
        session, weeks=[*before, *weeks], team_ids=team_ids, constructs=[PARTICIPATION]
    )
    late = set(weeks)
    totals: dict[tuple[int, bool], int] = {}
    for (team_id, week, _), (_, n) in found.items():
        key = (team_id, week in late)
        totals[key] = totals.get(key, 0) + n
    frame = pd.DataFrame(
        [(team_id, is_late, n) for (team_id, is_late), n in totals.items()],
        columns=["team_id", "late", "n"],
    )
    return frame.astype({"team_id": int, "late": bool, "n": int})
