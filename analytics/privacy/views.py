"""Reading released figures: what pages, exports and strain are allowed to see.

Every function here reads the store of frozen releases (``models.releases``) and nothing else, so
a page can only ever show a figure the gate stored, for a period that has closed. Access is checked
first, on every call: HR and admins see every unit; a manager the units they manage; staff their
own team (what their manager can see).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from analytics.aggregates import OrgTree, load_tree
from analytics.privacy.rules import (
    PARTICIPATION,
    REASON_TOO_FEW,
    PoolingPeriod,
    rate_bounds,
    standing_kinds,
)
from models import calendar
from models.access import AccessDenied, Viewer, descendant_unit_ids, require_team_access
from models.releases import PeriodRelease, ReleasedComment, ReleasedFigure

RECORD_COLUMNS: tuple[str, ...] = (
    "unit",
    "unit_name",
    "parent",
    "level",
    "period_start",
    "period_end",
    "construct",
    "mean",
    "n",
    "suppressed",
    "reason",
)
BASIS_TEAM = "team"
SERIES_COLUMNS = ("week", "construct", "mean", "n", "basis", "period", "reason", "suppressed", "unit_id")


def require_team_view(session: Session, viewer: Viewer, team_id: int) -> None:
    """A team's released figures: its managers, HR/admin, and its own members (what others see)."""
    if viewer.team_id == team_id and viewer.is_staff:
        return
    require_team_access(session, viewer, team_id)


def require_unit_view(session: Session, viewer: Viewer, unit_id: int) -> None:
    """A unit's released figures: HR/admin anywhere; a manager within the units they manage;
    staff only their own team."""
    if viewer.is_hr or viewer.is_admin:
        return
    if viewer.team_id == unit_id and viewer.is_staff:
        return
    if viewer.is_manager and unit_id in descendant_unit_ids(session, viewer.managed_unit_ids):
        return
    raise AccessDenied("You can only see units you manage or your own team.")


def require_hr(viewer: Viewer) -> None:
    if not (viewer.is_hr or viewer.is_admin):
        raise AccessDenied("Organisation-wide figures are for HR only.")


def released_periods(
    session: Session, *, organisation_id: int | None = None, kind: calendar.PeriodKind | None = None
) -> list[str]:
    """Released period labels (of one kind, when given), oldest first."""
    query = select(PeriodRelease.period, PeriodRelease.first_week).distinct()
    if organisation_id is not None:
        query = query.where(PeriodRelease.organisation_id == organisation_id)
    if kind is not None:
        query = query.where(PeriodRelease.kind == kind)
    rows = session.exec(query).all()
    return [period for period, _ in sorted(set(rows), key=lambda row: (row[1], row[0]))]


CELL_COLUMNS: tuple[str, ...] = (
    "organisation_id",
    "period",
    "unit_id",
    "construct_id",
    "work_pattern",
    "kind",
    "mean",
    "n",
    "rate",
    "suppressed",
    "reason",
)


def stored_cells(
    session: Session,
    *,
    organisation_ids: Sequence[int] | None = None,
    kind: calendar.PeriodKind | None = None,
    periods: Sequence[str] | None = None,
    unit_ids: Sequence[int] | None = None,
    constructs: Sequence[str] | None = None,
    slices: bool = False,
    columns: Sequence[str] = CELL_COLUMNS,
    released_only: bool = False,
) -> pd.DataFrame:
    """Released cells as stored (no access check: callers check first). Read as plain columns:
    the HR overview reads tens of thousands of cells, strain over a thousand teams hundreds of
    thousands, so a caller may ask for fewer ``columns`` and leave out the withheld cells
    (``released_only``)."""
    table = ReleasedFigure.__table__  # type: ignore[attr-defined]
    query = sa_select(*(table.c[name] for name in columns)).where(
        (table.c.work_pattern != "") if slices else (table.c.work_pattern == "")
    )
    if released_only:
        query = query.where(table.c.suppressed.is_(False))
    if organisation_ids is not None:
        query = query.where(table.c.organisation_id.in_(list(organisation_ids)))
    if kind is not None:
        query = query.where(table.c.kind == kind)
    if periods is not None:
        query = query.where(table.c.period.in_(list(periods)))
    if unit_ids is not None:
        query = query.where(table.c.unit_id.in_(list(unit_ids)))
    if constructs is not None:
        query = query.where(table.c.construct_id.in_(list(constructs)))
    result = session.connection().execute(query)
    try:
        # The driver's plain tuples: making a Row of each cell took twice as long as reading it
        # (340,000 cells of the HR overview: 3.1 s through Rows, 1.1 s from the tuples).
        rows = result.cursor.fetchall()
    finally:
        result.close()
    frame = (
        pd.DataFrame.from_records(rows, columns=list(columns))
        if rows
        else pd.DataFrame(None, columns=list(columns))
    )
    return frame.astype({"suppressed": bool}) if not frame.empty and "suppressed" in columns else frame


def _records(tree: OrgTree, cells: pd.DataFrame) -> pd.DataFrame:
    """Stored cells as published records (the export's columns, plus period label and unit id)."""
    extra = ["period", "unit_id", "work_pattern", "rate"]
    if cells.empty:
        return pd.DataFrame(columns=[*RECORD_COLUMNS, *extra])
    units = pd.DataFrame(
        [
            (
                unit.id,
                unit.code,
                unit.name,
                tree.units[unit.parent_id].code if unit.parent_id in tree.units else None,
                unit.kind,
            )
            for unit in tree.units.values()
        ],
        columns=["unit_id", "unit", "unit_name", "parent", "level"],
    )
    periods = pd.DataFrame(
        [(p, calendar.first_week(p), calendar.last_week(p)) for p in cells["period"].unique()],
        columns=["period", "period_start", "period_end"],
    )
    frame = cells.merge(units, on="unit_id", how="left").merge(periods, on="period", how="left")
    shown = ~frame["suppressed"]
    frame["mean"] = frame["mean"].where(shown & frame["mean"].notna(), None)
    frame["n"] = frame["n"].where(shown, None)
    frame["rate"] = frame["rate"].where(shown, None)
    frame = frame.rename(columns={"construct_id": "construct"})
    frame = frame[[*RECORD_COLUMNS, *extra]]
    return frame.sort_values(["construct", "period_start", "period_end", "unit"], ignore_index=True)


def organisation_figures(
    *,
    session: Session,
    viewer: Viewer,
    kind: calendar.PeriodKind = "week",
    periods: Sequence[str] | None = None,
    constructs: Sequence[str] | None = None,
    organisation_id: int | None = None,
    slices: bool = False,
) -> pd.DataFrame:
    """Every unit's released cell per period of ``kind`` (HR only): the heatmap, the trends and the
    open-data export all read this, so they show the same cells. ``responses`` is participation."""
    require_hr(viewer)
    tree = load_tree(session)
    roots = [tree.root_of(organisation_id)] if organisation_id is not None else None
    cells = stored_cells(
        session, organisation_ids=roots, kind=kind, periods=periods, constructs=constructs, slices=slices
    )
    return _records(tree, cells)


def team_series(
    *,
    session: Session,
    viewer: Viewer,
    team_id: int,
    weeks: Sequence[str],
    constructs: Sequence[str] | None = None,
    pooling_period: PoolingPeriod = "month",
) -> pd.DataFrame:
    """Per released week and construct, the figure that stands for the team: its own week if
    released, else its own month or quarter (pooled), else the nearest ancestor's (rolled up),
    finest period first. ``basis`` says which; a week without any says why."""
    require_team_view(session, viewer, team_id)
    tree = load_tree(session)
    if team_id not in tree.units:
        raise LookupError(f"There is no unit with id {team_id}.")
    chain = [team_id, *tree.ancestors(team_id)]
    containing = {
        week: [calendar.period_of(week, k) for k in standing_kinds(pooling_period)] for week in weeks
    }
    labels = sorted({label for found in containing.values() for label in found})
    cells = stored_cells(session, periods=labels, unit_ids=chain, constructs=constructs)
    wanted = sorted(set(cells["construct_id"])) if constructs is None else list(constructs)
    wanted = [c for c in wanted if c != PARTICIPATION]
    index = {(int(c.unit_id), c.period, c.construct_id): c for c in cells.itertuples(index=False)}
    rows: list[dict] = []
    for week in weeks:
        for construct in wanted:
            rows.append(standing_row(tree, chain, containing[week], week, construct, index))
    return pd.DataFrame(rows, columns=list(SERIES_COLUMNS))


def standing_row(
    tree: OrgTree, chain: list[int], periods: list[str], week: str, construct: str, index: dict
) -> dict:
    reason: str | None = None
    for unit_id in chain:
        for period in periods:
            cell = index.get((unit_id, period, construct))
            if cell is None:
                continue
            if cell.suppressed:
                if unit_id == chain[0] and reason is None:
                    reason = cell.reason
                continue
            kind = calendar.kind_of(period)
            pooled = "" if kind == "week" else f"pooled over the {kind} {period}"
            if unit_id == chain[0]:
                basis = pooled or BASIS_TEAM
            else:
                basis = ", ".join(filter(None, [f"rolled up into {tree.units[unit_id].name}", pooled]))
            return {
                "week": week,
                "construct": construct,
                "mean": None if pd.isna(cell.mean) else float(cell.mean),
                "n": cell.n,
                "basis": basis,
                "period": period,
                "reason": None,
                "suppressed": False,
                "unit_id": unit_id,
            }
    return {
        "week": week,
        "construct": construct,
        "mean": None,
        "n": None,
        "basis": BASIS_TEAM,
        "period": None,
        "reason": reason or REASON_TOO_FEW,
        "suppressed": True,
        "unit_id": None,
    }


def released_comments(
    *, session: Session, viewer: Viewer, unit_id: int, periods: Sequence[str]
) -> list[str]:
    """A unit's released comments for closed periods, alphabetical (no week, no order in time)."""
    require_unit_view(session, viewer, unit_id)
    texts = session.exec(
        select(ReleasedComment.text).where(
            ReleasedComment.unit_id == unit_id, col(ReleasedComment.period).in_(list(periods))
        )
    ).all()
    return sorted(str(text) for text in texts)


def latest_released_weeks(session: Session, *, unit_id: int, count: int) -> list[str]:
    """The organisation's latest ``count`` released weeks, oldest first (what dashboards show)."""
    tree = load_tree(session)
    if unit_id not in tree.units:
        raise LookupError(f"There is no unit with id {unit_id}.")
    weeks = released_periods(session, organisation_id=tree.root_of(unit_id), kind="week")
    return weeks[-count:] if count > 0 else []


@dataclass(frozen=True)
class TeamFigures:
    """What a team page shows: the series (``team_series``), its work-pattern mix and its
    participation, all read from the released store."""

    series: pd.DataFrame
    mix: pd.DataFrame
    rates: pd.DataFrame


def _chosen_rows(tree: OrgTree, team_id: int, cells: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """The released rows of the finest period (then the nearest ancestor) that stands for the team."""
    chain = [team_id, *tree.ancestors(team_id)]
    for unit_id in chain:
        for period in periods:
            rows = cells[(cells["unit_id"] == unit_id) & (cells["period"] == period)]
            if not rows.empty and not rows["suppressed"].all():
                basis = (
                    BASIS_TEAM if unit_id == team_id else f"rolled up into {tree.units[unit_id].name}"
                )
                return rows.assign(basis=basis)
    return cells.iloc[0:0].assign(basis=BASIS_TEAM)


def team_figures(
    *,
    session: Session,
    viewer: Viewer,
    team_id: int,
    weeks: Sequence[str],
    constructs: Sequence[str] | None = None,
    pooling_period: PoolingPeriod = "month",
) -> TeamFigures:
    """The team's released series, work-pattern mix (its latest released quarter) and response
    rate per week, each standing for the team as ``team_series`` explains."""
    series = team_series(
        session=session, viewer=viewer, team_id=team_id, weeks=weeks, constructs=constructs
    )
    tree = load_tree(session)
    chain = [team_id, *tree.ancestors(team_id)]
    rate_rows = []
    kinds = standing_kinds(pooling_period)
    labels = sorted({calendar.period_of(w, k) for w in weeks for k in kinds})
    participation = stored_cells(session, periods=labels, unit_ids=chain, constructs=[PARTICIPATION])
    index = {
        (int(c.unit_id), c.period, c.construct_id): c for c in participation.itertuples(index=False)
    }
    for week in weeks:
        row = standing_row(
            tree,
            chain,
            [calendar.period_of(week, k) for k in kinds],
            week,
            PARTICIPATION,
            index,
        )
        found = index.get((row["unit_id"], row["period"], PARTICIPATION)) if row["period"] else None
        rate = None if found is None else found.rate
        rate_rows.append(
            {
                "week": week,
                "rate_label": rate or "not released",
                "response_rate": _exact_rate(rate),
                "n": row["n"],
                "basis": row["basis"],
            }
        )
    rates = pd.DataFrame(rate_rows, columns=["week", "rate_label", "response_rate", "n", "basis"])
    quarters = released_periods(session, organisation_id=tree.root_of(team_id), kind="quarter")
    mix = pd.DataFrame(columns=["work_pattern", "share", "n", "basis", "suppressed", "period"])
    if quarters:
        slices = stored_cells(
            session, periods=quarters[-1:], unit_ids=chain, constructs=["wellbeing"], slices=True
        ).assign(unit_id=lambda f: f["unit_id"].astype(int))
        chosen = _chosen_rows(tree, team_id, slices, quarters[-1:])
        if not chosen.empty:
            released = chosen[~chosen["suppressed"].astype(bool)]
            exact = released["n"].map(lambda n: n is not None and "-" not in str(n))
            total = sum(int(n) for n in released["n"]) if bool(exact.all()) and not released.empty else 0
            mix = pd.DataFrame(
                {
                    "work_pattern": chosen["work_pattern"],
                    "share": [
                        (int(n) / total if total and not s else None)
                        for n, s in zip(chosen["n"], chosen["suppressed"], strict=True)
                    ],
                    "n": chosen["n"],
                    "basis": chosen["basis"],
                    "suppressed": chosen["suppressed"].astype(bool),
                    "period": chosen["period"],
                }
            )
    return TeamFigures(series=series, mix=mix, rates=rates)


def _exact_rate(text: str | None) -> float | None:
    """A rate the chart may draw: only an exact one (from 10 people), never a band's range."""
    if not text:
        return None
    low, high = rate_bounds(text)
    return low if low == high else None
