"""The team dashboard charts in words and tables (see ``app.charts.text``): each function takes what
its chart in ``app.charts.team`` takes and tells only the rows that chart draws."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from analytics.outcomes import QuadrantPoint
from app.charts.team import released_rows
from app.charts.text import ChartText, chart_text, listing, number, people, percent, released_figures
from app.i18n import _


def delivery_text(history: pd.DataFrame, *, kind: str = "objective") -> ChartText:
    """Progress against expected: where each objective stood in the latest week."""
    rows = history[history["kind"] == kind] if not history.empty else history
    if rows.empty:
        return ChartText(_("No progress recorded yet."))
    rows = rows.sort_values(["series", "week_ending"])
    latest = rows.groupby("series", as_index=False).last()
    behind = [r.series for r in latest.itertuples() if r.progress < r.expected]
    summary = _(
        "Progress of {count} objectives against expected, week by week; in the latest week "
        "{behind} behind expected: {names}."
    ).format(count=len(latest), behind=len(behind), names=listing(behind) or _("none"))
    table = rows.assign(
        week_ending=rows["week_ending"].astype(str),
        progress=rows["progress"].map(percent),
        expected=rows["expected"].map(percent),
    )
    return chart_text(
        summary,
        table,
        {
            "series": _("Objective"),
            "week_ending": _("Week ending"),
            "progress": _("Progress"),
            "expected": _("Expected"),
        },
    )


def wellbeing_text(series: pd.DataFrame) -> ChartText:
    """The released weekly means: the range of weeks, the latest, the lowest and highest."""
    rows = released_rows(series)
    if rows.empty:
        return ChartText(_("No released wellbeing figures yet."))
    latest = rows.iloc[-1]
    low = rows.loc[rows["mean"].astype(float).idxmin()]
    high = rows.loc[rows["mean"].astype(float).idxmax()]
    summary = _(
        "Wellbeing (WHO-5, 0-100) in {count} released weeks, {first} to {last}: latest {latest} "
        "({basis}), lowest {low} in {low_week}, highest {high} in {high_week}."
    ).format(
        count=len(rows),
        first=rows.iloc[0]["week"],
        last=latest["week"],
        latest=number(latest["mean"], 0),
        basis=latest["basis"],
        low=number(low["mean"], 0),
        low_week=low["week"],
        high=number(high["mean"], 0),
        high_week=high["week"],
    )
    table = released_figures(rows, 0)
    return chart_text(
        summary, table, {"week": _("Week"), "mean": _("Mean"), "n": _("People"), "basis": _("Basis")}
    )


def pattern_mix_text(mix: pd.DataFrame) -> ChartText:
    """The work pattern mix (released with exact counts only)."""
    rows = mix[~mix["suppressed"].astype(bool) & mix["share"].notna()] if not mix.empty else mix
    if rows.empty:
        return ChartText(_("Work pattern mix: not released (too few people)."))
    parts = [
        _("{pattern} {share}").format(pattern=r.work_pattern, share=percent(r.share))
        for r in rows.sort_values("share", ascending=False).itertuples()
    ]
    summary = _("Share of responses by work pattern: {parts}.").format(parts=", ".join(parts))
    table = rows.assign(share=rows["share"].map(percent), n=rows["n"].map(people))
    return chart_text(
        summary,
        table,
        {
            "work_pattern": _("Work pattern"),
            "share": _("Share"),
            "n": _("People"),
            "basis": _("Basis"),
        },
    )


def response_rate_text(rates: pd.DataFrame) -> ChartText:
    """Weekly response rates: the chart draws exact rates, the table has every week's label."""
    drawn = rates[rates["response_rate"].notna()] if not rates.empty else rates
    if rates.empty:
        return ChartText(_("Response rate: no weeks."))
    summary = _(
        "Response rate in {count} weeks ({exact} exact, drawn; the rest as a range); latest "
        "{week}: {rate}."
    ).format(
        count=len(rates),
        exact=len(drawn),
        week=rates.iloc[-1]["week"],
        rate=rates.iloc[-1]["rate_label"],
    )
    return chart_text(
        summary, rates, {"week": _("Week"), "rate_label": _("Response rate"), "basis": _("Basis")}
    )


def quadrant_text(points: Sequence[QuadrantPoint]) -> ChartText:
    """Delivery against wellbeing: how many teams sit in each quadrant, by name."""
    placed = [p for p in points if p.quadrant is not None]
    if not placed:
        return ChartText(_("No team can be placed yet."))
    counts = Counter(p.quadrant for p in placed)
    parts = [
        _("{quadrant}: {names}").format(
            quadrant=quadrant, names=listing(sorted(p.team for p in placed if p.quadrant == quadrant))
        )
        for quadrant in ("struggling", "delivering at a cost", "coasting", "thriving")
        if counts.get(quadrant)
    ]
    summary = _("Delivery against wellbeing for {count} teams. {parts}.").format(
        count=len(placed), parts="; ".join(parts)
    )
    table = pd.DataFrame(
        [
            {
                "team": p.team,
                "quadrant": p.quadrant,
                "delivery": percent(p.delivery, sign=True),
                "wellbeing": number(p.wellbeing),
            }
            for p in placed
        ]
    )
    return chart_text(
        summary,
        table,
        {
            "team": _("Team"),
            "quadrant": _("Quadrant"),
            "delivery": _("Delivery (progress minus expected)"),
            "wellbeing": _("Wellbeing (WHO-5)"),
        },
    )
