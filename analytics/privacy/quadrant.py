"""Outcome delivery against released wellbeing for every team (the HR quadrant)."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
from sqlmodel import Session

from analytics.aggregates import load_tree
from analytics.objectives import delivery_features
from analytics.outcomes import QuadrantPoint, quadrant_point
from analytics.privacy.views import released_periods, require_hr, standing_row, stored_cells
from models import calendar
from models.access import Viewer

CONSTRUCT = "wellbeing"


def organisation_quadrant(
    *,
    session: Session,
    viewer: Viewer,
    today: date,
    organisation_id: int | None = None,
    window_weeks: int = 12,
) -> list[QuadrantPoint]:
    """Every team on outcome delivery against wellbeing (HR only). Wellbeing is the team's own
    released figure for the organisation's latest released week (or that week's month or quarter,
    pooled), never its parent's; a team without one is listed as suppressed, not plotted."""
    require_hr(viewer)
    tree = load_tree(session)
    roots = [tree.root_of(organisation_id)] if organisation_id is not None else list(tree.roots)
    points: list[QuadrantPoint] = []
    for root in roots:
        teams = [u for u in sorted(tree.subtree(root)) if tree.units[u].kind == "team"]
        weeks = released_periods(session, organisation_id=root, kind="week")
        delivery = delivery_features(
            session=session, team_ids=teams, today=today, window_weeks=window_weeks
        )
        gaps = dict(zip(delivery["team_id"].tolist(), delivery["delivery_gap"].tolist(), strict=True))
        periods = (
            [calendar.period_of(weeks[-1], k) for k in ("week", "month", "quarter")] if weeks else []
        )
        cells = (
            stored_cells(session, periods=periods, unit_ids=teams, constructs=[CONSTRUCT])
            if periods
            else None
        )
        index = (
            {(int(c.unit_id), c.period, c.construct_id): c for c in cells.itertuples(index=False)}
            if cells is not None
            else {}
        )
        for team_id in teams:
            rows = [standing_row(tree, [team_id], periods, weeks[-1], CONSTRUCT, index)] if weeks else []
            gap = gaps.get(team_id, math.nan)
            points.append(quadrant_point(tree.units[team_id].name, None if pd.isna(gap) else -gap, rows))
    return points
