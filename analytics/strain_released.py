"""Strain detection's one database read, built from released figures only (the store of frozen
releases): ``strain_inputs_from_database`` and the pieces it is made of.

Strain reads no answer the gate has not released. For each assessed team and week it takes the
figure that stands for the team: its own week if released, else its own month or quarter (pooled).
A released figure is a rounded mean and a people count (exact from 10, else a band, read as its
middle), so sums are rebuilt as ``n x mean``; the spread within a team, which no cell releases,
comes from one organisation-wide pooled within-team variance per construct (a statistic over
hundreds of people, never shown). Everything strain prints is therefore a function of figures
already released.

The assessment rule (``assessed_teams``): a team is assessed when a figure of its own stands for
at least half of the window's weeks (``MIN_WEEK_SHARE``), one of them among the latest
``RECENT_WEEKS``. Weeks without one are left out, never imputed: the sums, the number of answers
and so the uncertainty are those of the weeks used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from analytics.aggregates import load_tree, shift_week, weeks_between
from analytics.objectives import delivery_features
from analytics.privacy import PrivacyRules
from analytics.privacy.rules import PARTICIPATION, REASON_TOO_FEW, band_bounds
from analytics.privacy.views import released_periods, stored_cells
from models import calendar
from models.base import week_monday
from models.org import Person
from models.pulse import TeamWeekScore

STANDING: tuple[calendar.PeriodKind, ...] = ("week", "month", "quarter")
SUPPORT_CONSTRUCTS: tuple[str, ...] = ("manager_support", "peer_support")
CONSTRUCTS: tuple[str, ...] = ("wellbeing", "demands", "control", *SUPPORT_CONSTRUCTS)
DEFAULT_WINDOW_WEEKS = 8
#: A team's changes compare the window with its own previous ``BASELINE_WINDOWS`` x N weeks (1:
#: longer baselines were measured and not kept; docs/STRAIN.md, "Tried and not kept").
BASELINE_WINDOWS = 1
#: Changes are also read over the latest half of the window (against the same baseline): a problem
#: that began part-way through the window fills only part of it, and the whole window's change
#: dilutes it (docs/STRAIN.md, "A late onset").
RECENT_SHARE = 0.5
MIN_WEEK_SHARE = 0.5  # a team is assessed on at least half of the window's weeks ...
RECENT_WEEKS = 4  # ... one of them among the latest four (a team silent lately is not assessed)
SUMS_COLUMNS = ["team_id", "week", "construct", "n", "total", "total_sq"]
#: What the participation counts are read from (``stored_cells``).
PARTICIPATION_COLUMNS = ("unit_id", "period", "n", "suppressed", "reason")


def recent_weeks(weeks: list[str]) -> list[str]:
    """The latest ``RECENT_SHARE`` of the window's weeks (at least one)."""
    return weeks[-max(1, round(RECENT_SHARE * len(weeks))) :]


def _released_cells(
    session: Session,
    *,
    weeks: Sequence[str],
    team_ids: Sequence[int] | None,
    constructs: Sequence[str],
) -> pd.DataFrame:
    """The released cells of every period that can stand for one of ``weeks`` (the week, its
    month, its quarter), of ``team_ids`` (None: every unit): ``team_id``, ``period``,
    ``construct``, ``mean`` (nan if none) and ``n`` (people, a band read as its middle)."""
    columns = ["team_id", "period", "construct", "mean", "n"]
    periods = sorted({calendar.period_of(week, kind) for week in weeks for kind in STANDING})
    released = stored_cells(
        session,
        periods=periods,
        unit_ids=None if team_ids is None else list(team_ids),
        constructs=list(constructs),
        columns=("unit_id", "period", "construct_id", "mean", "n"),
        released_only=True,
    )
    if released.empty:
        return pd.DataFrame(columns=columns)
    people = {label: band_middle(str(label)) for label in released["n"].unique()}
    return pd.DataFrame(
        {
            "team_id": released["unit_id"].astype(int),
            "period": released["period"],
            "construct": released["construct_id"].astype(str),
            "mean": pd.to_numeric(released["mean"], errors="coerce").astype(float),
            "n": released["n"].map(people).astype(float),
        },
        columns=columns,
    )


def _standing_periods(weeks: Sequence[str]) -> pd.DataFrame:
    """Each week with the periods that can stand for it, in order (``rank``: week, month,
    quarter)."""
    return pd.DataFrame(
        [
            (week, calendar.period_of(week, kind), rank)
            for week in weeks
            for rank, kind in enumerate(STANDING)
        ],
        columns=["week", "period", "rank"],
    )


def _standing(released: pd.DataFrame, weeks: Sequence[str]) -> pd.DataFrame:
    """Per team, week and construct, the released cell standing for it (its own week, else its
    month, else its quarter): ``team_id``, ``week``, ``construct``, ``mean``, ``n``. A merge, no
    loop per cell: strain over a thousand teams reads a few hundred thousand of them."""
    columns = ["team_id", "week", "construct", "mean", "n"]
    if released.empty:
        return pd.DataFrame(columns=columns)
    found = released.merge(_standing_periods(weeks), on="period").sort_values("rank", kind="stable")
    found = found.drop_duplicates(["team_id", "week", "construct"], keep="first")
    return found[columns].reset_index(drop=True)


def band_middle(label: str) -> float:
    """The people a released count stands for: exact, or a band's middle ("5-9" -> 7), the
    unbiased reading when nothing else is known (the lower bound would understate every small
    team's information)."""
    low, high = band_bounds(label)
    return (low + high) / 2


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
    released = _released_cells(session, weeks=weeks, team_ids=team_ids, constructs=constructs)
    return _sums(_standing(released, weeks), within)


def _sums(found: pd.DataFrame, within: dict[str, float]) -> pd.DataFrame:
    """Sums rebuilt from standing cells: ``n x mean``, and the squares with the pooled spread."""
    found = found[(found["n"] > 0) & found["mean"].notna()]
    spread = found["construct"].map(lambda construct: within.get(construct, 0.0)).astype(float)
    frame = pd.DataFrame(
        {
            "team_id": found["team_id"],
            "week": found["week"],
            "construct": found["construct"],
            "n": found["n"],
            "total": found["n"] * found["mean"],
            "total_sq": found["n"] * (found["mean"] ** 2 + spread),
        },
        columns=SUMS_COLUMNS,
    )
    return frame.astype({"team_id": int, "n": float, "total": float, "total_sq": float})


def released_answers(
    session: Session,
    *,
    before: Sequence[str],
    weeks: Sequence[str],
    team_ids: Sequence[int],
    min_group_size: int,
    members: Mapping[bool, pd.Series] | None = None,
) -> pd.DataFrame:
    """People who answered per team in the weeks before the window (``late`` False) and in it
    (``late`` True), from the released weekly participation figures, with the number of weeks
    counted (``weeks``), the variance of reading counts from bands (``n_var``, as if uniform within
    each band), and the weeks withheld to protect a neighbour (``withheld``; such a week had at
    least ``withheld_low`` = k people). A released count is read as its band's middle; a week
    withheld as "too few people" as the middle of 1 to k - 1 (that is what the release says, and a
    team that stops answering shows mostly in such weeks); a week withheld for another reason (to
    protect a neighbour) is left out of both answers and exposure. Months and quarters do not enter:
    they count distinct people, not answers per week. With ``members`` (people per team before the
    window, False, and in it, True) a band is cut at the team's size: a team of six that shows "5-9"
    answered 5 or 6, not 7."""
    cells = _participation_cells(session, periods=[*before, *weeks], team_ids=team_ids)
    return answers_from_cells(
        cells, before=before, weeks=weeks, min_group_size=min_group_size, members=members
    )


def _participation_cells(
    session: Session, *, periods: Sequence[str], team_ids: Sequence[int]
) -> pd.DataFrame:
    """The stored participation cells (released or withheld, with the reason) of the periods."""
    return stored_cells(
        session,
        periods=list(periods),
        unit_ids=list(team_ids),
        constructs=[PARTICIPATION],
        columns=PARTICIPATION_COLUMNS,
    )


def answers_from_cells(
    cells: pd.DataFrame,
    *,
    before: Sequence[str],
    weeks: Sequence[str],
    min_group_size: int,
    members: Mapping[bool, pd.Series] | None = None,
) -> pd.DataFrame:
    """``released_answers`` from participation cells already read (``stored_cells``): the cells
    of ``before`` and ``weeks`` count, any other period is ignored, so one read serves the
    window and its latest weeks."""
    columns = ["team_id", "late", "n", "n_var", "weeks", "withheld", "withheld_low"]
    frame = cells[cells["period"].isin([*before, *weeks])] if not cells.empty else cells
    if frame.empty:
        return pd.DataFrame(columns=columns).astype({"team_id": int, "late": bool, "n": float})
    team = frame["unit_id"].astype(int).to_numpy()
    is_late = frame["period"].isin(list(weeks)).to_numpy()
    suppressed = frame["suppressed"].to_numpy(bool)
    label = frame["n"].where(frame["n"].notna(), "").astype(str).to_numpy()
    shown = ~suppressed & (label != "")
    too_few = suppressed & (frame["reason"] == REASON_TOO_FEW).to_numpy()
    bounds = {text: band_bounds(text) for text in set(label[shown])}
    low = np.where(shown, [bounds.get(text, (0, 0))[0] for text in label], 1).astype(float)
    high = np.where(shown, [bounds.get(text, (0, 0))[1] for text in label], min_group_size - 1)
    high = high.astype(float)
    if members is not None:
        size = np.where(
            is_late,
            members[True].reindex(team).to_numpy(float),
            members[False].reindex(team).to_numpy(float),
        )
        cut = ~np.isnan(size) & (low <= size) & (size < high)
        high = np.where(cut, size, high)
    counted = shown | too_few  # the rest were withheld to protect a neighbour: at least k people
    table = pd.DataFrame(
        {
            "team_id": team,
            "late": is_late,
            "n": np.where(counted, (low + high) / 2, 0.0),
            # a count known only to lie in its band
            "n_var": np.where(counted, ((high - low + 1) ** 2 - 1) / 12, 0.0),
            "weeks": counted.astype(int),
            "withheld": (~counted).astype(int),
        }
    )
    totals = table.groupby(["team_id", "late"], sort=False).sum().reset_index()
    totals["withheld_low"] = float(min_group_size)
    return totals[columns].astype(
        {
            "team_id": int,
            "late": bool,
            "n": float,
            "n_var": float,
            "weeks": int,
            "withheld": int,
            "withheld_low": float,
        }
    )


def latest_week(session: Session, today: date | None = None) -> str | None:
    """The latest released week (the default end of the window): a week still open, or closed
    and not yet released, never enters."""
    del today  # released weeks are closed by definition
    weeks = released_periods(session, kind="week")
    return weeks[-1] if weeks else None


def assessed_teams(released: pd.DataFrame, weeks: list[str]) -> list[int]:
    """Units that strain detection assesses over the window, from released cells already read
    (``_released_cells``; any constructs and periods): those with a released wellbeing figure of
    their own (the week itself, or pooled into its month or quarter) standing for at least half
    of the window's weeks, one of them among the latest ``RECENT_WEEKS``. The rest are 'not
    assessed', never imputed; an assessed team's withheld weeks are simply left out."""
    shown = released.loc[(released["construct"] == "wellbeing") & released["mean"].notna()]
    used = shown[["team_id", "period"]].merge(_standing_periods(weeks), on="period")
    used = used.drop_duplicates(["team_id", "week"])
    counts = used.groupby("team_id").size()
    recent = set(used.loc[used["week"].isin(weeks[-RECENT_WEEKS:]), "team_id"])
    needed = math.ceil(MIN_WEEK_SHARE * len(weeks))
    return sorted(int(team) for team in counts[counts >= needed].index if team in recent)


def _frame(session: Session, statement: Any, columns: list[str]) -> pd.DataFrame:
    """Run a Core statement and build a frame from plain tuples (much faster than ORM rows)."""
    rows = session.connection().execute(statement).all()
    return pd.DataFrame.from_records([tuple(row) for row in rows], columns=columns)


def _pooled(sums: pd.DataFrame) -> pd.DataFrame:
    """Per team and construct over the weeks (support constructs pooled), like the window sums."""
    frame = sums.copy()
    frame["construct"] = frame["construct"].where(
        ~frame["construct"].isin(SUPPORT_CONSTRUCTS), "support"
    )
    return frame.groupby(["team_id", "construct"])[["n", "total", "total_sq"]].sum()


def _members(session: Session, before: list[str], weeks: list[str]) -> dict[bool, pd.Series]:
    """People attached to each team in the weeks before the window (False) and in it (True)."""
    found: dict[bool, pd.Series] = {}
    for is_late, span in {False: before, True: weeks}.items():
        first_day = week_monday(span[0])
        last_day = week_monday(span[-1]) + timedelta(days=6)
        found[is_late] = _frame(
            session,
            sa_select(Person.team_id, func.count(col(Person.id)))
            .where(
                col(Person.team_id).is_not(None),
                or_(col(Person.active_from).is_(None), col(Person.active_from) <= last_day),
                or_(col(Person.active_to).is_(None), col(Person.active_to) >= first_day),
            )
            .group_by(Person.team_id),
            ["team_id", "members"],
        ).set_index("team_id")["members"]
    return found


@dataclass(frozen=True)
class StrainInputs:
    """Everything strain detection reads about a window, as plain frames: what the database read
    returns and what the in-memory evaluation builds. ``window``: per team and construct over the
    window (``team_id``, ``construct``, ``n``, ``total``, ``total_sq``; support pooled); ``weekly``:
    per team and week, wellbeing (``team_id``, ``week``, ``n``, ``total``, ``total_sq``);
    ``answered``: answers per team in each half (``team_id``, ``late``, ``n``, and, when not every
    week of the span counts, ``weeks`` counted, ``n_var``, the variance of reading counts from
    bands, and ``withheld`` / ``withheld_low``, the weeks withheld for a neighbour and the fewest
    people such a week had); ``baseline``: like ``window`` over the ``BASELINE_WINDOWS`` x N
    weeks before it (each team compared with itself, which cancels the lasting differences
    between its people); ``members``: people per team before the window and in it;
    ``delivery``: ``team_id``, ``delivery_gap`` (0-1), ``confidence_trend``; ``recent``: like
    ``window`` over its latest weeks (``recent_weeks``); ``answered_recent``: like ``answered``,
    with ``late`` the window's latest weeks; ``history``: like ``weekly`` from the week the
    caller asked for (the alerts' span), when it asked."""

    weeks: list[str]
    eligible: list[int]
    suppressed: list[int]
    window: pd.DataFrame
    baseline: pd.DataFrame  # like ``window``, over the BASELINE_WINDOWS x N weeks just before it
    weekly: pd.DataFrame
    answered: pd.DataFrame
    members: Mapping[bool, pd.Series]
    delivery: pd.DataFrame
    recent: pd.DataFrame = field(default_factory=pd.DataFrame)  # like ``window``, latest half
    answered_recent: pd.DataFrame = field(default_factory=pd.DataFrame)  # like ``answered``
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # like ``weekly``, alert span


def strain_inputs_from_database(
    *,
    session: Session,
    rules: PrivacyRules,
    end_week: str,
    window_weeks: int = DEFAULT_WINDOW_WEEKS,
    today: date | None = None,
    history_from: str | None = None,
) -> StrainInputs:
    """The one database read of strain detection: the latest ``window_weeks`` weeks up to
    ``end_week``, for the teams ``assessed_teams`` admits, each from the weeks a figure of its own
    stands for (the rest are listed as suppressed and never imputed). ``history_from``: also the
    weekly wellbeing from that week to ``end_week`` (``StrainInputs.history``, the alerts' input),
    in the same pass as the window's."""
    if window_weeks < 2:
        raise ValueError("the window must be at least two weeks")
    start_week = shift_week(end_week, -(window_weeks - 1))
    weeks = weeks_between(start_week, end_week)
    tree = load_tree(session)
    before = weeks_between(
        shift_week(start_week, -BASELINE_WINDOWS * window_weeks), shift_week(start_week, -1)
    )
    # One read of every released cell the window and its baseline can use: who is assessed, then
    # their sums.
    released = _released_cells(session, weeks=[*before, *weeks], team_ids=None, constructs=CONSTRUCTS)
    eligible = [
        u for u in assessed_teams(released, weeks) if tree.units.get(u) and tree.units[u].kind == "team"
    ]
    suppressed = sorted(u for u, info in tree.units.items() if info.kind == "team" and u not in eligible)
    within = pooled_within_variance(session, weeks=[*before, *weeks], constructs=CONSTRUCTS)
    released = released[released["team_id"].isin(eligible)]
    sums = _sums(_standing(released, [*before, *weeks]), within)
    weekly_sums = sums[sums["week"].isin(weeks)]
    window = _pooled(weekly_sums)
    recent = _pooled(weekly_sums[weekly_sums["week"].isin(recent_weeks(weeks))])
    baseline = _pooled(sums[sums["week"].isin(before)])
    history = pd.DataFrame(columns=[c for c in SUMS_COLUMNS if c != "construct"])
    if history_from is not None:
        earlier: list[str] = []
        if history_from < before[0]:
            earlier = weeks_between(history_from, shift_week(before[0], -1))
        history = pd.concat(
            [
                released_sums(
                    session, weeks=earlier, team_ids=eligible, constructs=["wellbeing"], within=within
                ),
                sums,
            ]
        )
        history = history[(history["construct"] == "wellbeing") & (history["week"] >= history_from)]
        history = history.drop(columns=["construct"]).reset_index(drop=True)
    weekly = weekly_sums[weekly_sums["construct"] == "wellbeing"].drop(columns=["construct"])
    members = _members(session, before, weeks)
    participation = _participation_cells(session, periods=[*before, *weeks], team_ids=eligible)
    answered, answered_recent = (
        answers_from_cells(
            participation,
            before=before,
            weeks=late,
            min_group_size=rules.min_group_size,
            members=members,
        )
        for late in (weeks, recent_weeks(weeks))
    )
    end_day = today or (week_monday(end_week) + timedelta(days=6))
    delivery = delivery_features(
        session=session, team_ids=eligible, today=end_day, window_weeks=window_weeks
    )
    return StrainInputs(
        weeks=weeks,
        eligible=eligible,
        suppressed=suppressed,
        window=window,
        baseline=baseline,
        weekly=weekly,
        answered=answered,
        members=members,
        delivery=delivery,
        recent=recent,
        answered_recent=answered_recent,
        history=history,
    )
