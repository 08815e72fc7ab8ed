"""Team dashboard charts: pure functions from released data frames to Altair charts.

They draw only what they are given: the wellbeing charts take the privacy gate's rows and leave out
anything the gate suppressed, so no chart can show a figure the gate did not release.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from analytics.outcomes import AT_RISK_GAP, WELLBEING_CUT_OFF, QuadrantPoint
from app.charts import palette
from app.i18n import _

PERCENT = alt.Axis(format="%")
QUADRANTS = ["thriving", "delivering at a cost", "coasting", "struggling"]


def delivery_chart(history: pd.DataFrame, *, kind: str = "objective") -> alt.Chart:
    """Progress (solid) against expected progress (dashed) week by week, one colour per series."""
    rows = history[history["kind"] == kind] if not history.empty else history
    long = rows.melt(
        id_vars=["week_ending", "series"],
        value_vars=["progress", "expected"],
        var_name="measure",
        value_name="share",
    )
    long["week_ending"] = pd.to_datetime(long["week_ending"])
    return (
        alt.Chart(long, title=_("Progress against expected"))
        .mark_line(point=True)
        .encode(
            x=alt.X("week_ending:T", title=_("Week ending")),
            y=alt.Y("share:Q", title=_("Progress"), axis=PERCENT, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "series:N",
                title=None,
                legend=alt.Legend(orient="bottom", columns=1),
                scale=alt.Scale(range=list(palette.CATEGORICAL)),
            ),
            shape=alt.Shape("series:N", title=None, legend=None),
            strokeDash=alt.StrokeDash(
                "measure:N",
                title=None,
                scale=alt.Scale(domain=["progress", "expected"], range=[[1, 0], [5, 4]]),
            ),
            tooltip=[
                alt.Tooltip("series:N", title=_("Objective")),
                alt.Tooltip("week_ending:T", title=_("Week ending")),
                alt.Tooltip("measure:N", title=_("Measure")),
                alt.Tooltip("share:Q", title=_("Value"), format=".0%"),
            ],
        )
    )


def released_rows(series: pd.DataFrame) -> pd.DataFrame:
    """Only the rows the gate released (never a suppressed row, never a missing mean)."""
    if series.empty:
        return series
    return series[(~series["suppressed"].astype(bool)) & series["mean"].notna()]


def wellbeing_chart(series: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """The released weekly means; colour says the basis (team, pooled, rolled up) so a pooled or
    rolled-up point never passes for a weekly team figure. No interval: a small cell's own spread
    would help undo it (the privacy rules)."""
    rows = released_rows(series)[["week", "mean", "n", "basis"]].copy()
    rows["n"] = rows["n"].astype(str)
    return (
        alt.Chart(rows, title=title or _("Wellbeing (WHO-5, 0-100)"))
        .mark_line(point=True)
        .encode(
            x=alt.X("week:O", title=_("ISO week")),
            y=alt.Y("mean:Q", title=_("Mean"), scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "basis:N",
                title=_("Basis"),
                legend=alt.Legend(orient="bottom"),
                scale=alt.Scale(range=list(palette.CATEGORICAL)),
            ),
            shape=alt.Shape("basis:N", title=_("Basis")),
            tooltip=[
                alt.Tooltip("week:O", title=_("Week")),
                alt.Tooltip("mean:Q", title=_("Mean"), format=".0f"),
                alt.Tooltip("n:N", title=_("People")),
                alt.Tooltip("basis:N", title=_("Basis")),
            ],
        )
    )


def pattern_mix_chart(mix: pd.DataFrame) -> alt.Chart:
    """Share of people per work pattern, only if the gate released the slice with exact counts."""
    rows = mix[~mix["suppressed"].astype(bool) & mix["share"].notna()] if not mix.empty else mix
    rows = rows[["work_pattern", "share", "n", "basis"]].copy()
    rows["n"] = rows["n"].astype(str)
    return (
        alt.Chart(rows, title=_("Work pattern mix"))
        .mark_bar(color=palette.CATEGORICAL[0])
        .encode(
            x=alt.X(
                "share:Q", title=_("Share of responses"), axis=PERCENT, scale=alt.Scale(domain=[0, 1])
            ),
            y=alt.Y("work_pattern:N", title=None, sort=["home", "hybrid", "office", "site", "unknown"]),
            tooltip=[
                alt.Tooltip("work_pattern:N", title=_("Pattern")),
                alt.Tooltip("share:Q", title=_("Share"), format=".0%"),
                alt.Tooltip("n:N", title=_("People")),
                alt.Tooltip("basis:N", title=_("Basis")),
            ],
        )
    )


def response_rate_chart(rates: pd.DataFrame) -> alt.Chart:
    """Weekly response rate where the gate gives an exact rate (10+ responses); bands stay in text."""
    rows = rates[rates["response_rate"].notna()] if not rates.empty else rates
    rows = rows[["week", "response_rate", "rate_label", "basis"]]
    return (
        alt.Chart(rows, title=_("Response rate"))
        .mark_bar(color=palette.CATEGORICAL[0])
        .encode(
            x=alt.X("week:O", title=_("ISO week")),
            y=alt.Y(
                "response_rate:Q", title=_("Responded"), axis=PERCENT, scale=alt.Scale(domain=[0, 1])
            ),
            tooltip=[
                alt.Tooltip("week:O", title=_("Week")),
                alt.Tooltip("rate_label:N", title=_("Rate")),
                alt.Tooltip("basis:N", title=_("Basis")),
            ],
        )
    )


def quadrant_chart(points: Sequence[QuadrantPoint]) -> alt.LayerChart:
    """Delivery (progress minus expected) against wellbeing for the teams that can be placed.

    Teams without a released wellbeing figure for themselves are left out of the plot (the page lists
    them as suppressed); the lines mark the delivery threshold and the WHO-5 cut-off.
    """
    plotted = pd.DataFrame(
        [
            {"team": p.team, "delivery": p.delivery, "wellbeing": p.wellbeing, "quadrant": p.quadrant}
            for p in points
            if p.quadrant is not None
        ],
        columns=["team", "delivery", "wellbeing", "quadrant"],
    )
    x = alt.X(
        "delivery:Q",
        title=_("Delivery: progress minus expected"),
        axis=PERCENT,
        scale=alt.Scale(domain=[-1, 1]),
    )
    y = alt.Y("wellbeing:Q", title=_("Wellbeing (WHO-5)"), scale=alt.Scale(domain=[0, 100]))
    dots = (
        alt.Chart(plotted)
        .mark_point(size=160, filled=True)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "quadrant:N",
                title=_("Quadrant"),
                scale=alt.Scale(domain=QUADRANTS, range=list(palette.CATEGORICAL[:4])),
            ),
            shape=alt.Shape(
                "quadrant:N",
                title=_("Quadrant"),
                scale=alt.Scale(
                    domain=QUADRANTS, range=["circle", "diamond", "square", "triangle-down"]
                ),
            ),
            tooltip=[
                alt.Tooltip("team:N", title=_("Team")),
                alt.Tooltip("quadrant:N", title=_("Quadrant")),
                alt.Tooltip("delivery:Q", title=_("Delivery"), format="+.0%"),
                alt.Tooltip("wellbeing:Q", title=_("Wellbeing"), format=".1f"),
            ],
        )
    )
    names = dots.mark_text(dy=-14).encode(text="team:N", color=alt.value(palette.MARK_TEXT))
    vertical = (
        alt.Chart(pd.DataFrame({"delivery": [-AT_RISK_GAP]}))
        .mark_rule(strokeDash=[4, 4], color=palette.RULE)
        .encode(x=x)
    )
    horizontal = (
        alt.Chart(pd.DataFrame({"wellbeing": [WELLBEING_CUT_OFF]}))
        .mark_rule(strokeDash=[4, 4], color=palette.RULE)
        .encode(y=y)
    )
    labels = pd.DataFrame(
        [
            {"delivery": 0.55, "wellbeing": 96, "label": "thriving"},
            {"delivery": 0.55, "wellbeing": 4, "label": "delivering at a cost"},
            {"delivery": -0.6, "wellbeing": 96, "label": "coasting"},
            {"delivery": -0.6, "wellbeing": 4, "label": "struggling"},
        ]
    )
    corner = (
        alt.Chart(labels)
        .mark_text(color=palette.NEUTRAL, fontStyle="italic")
        .encode(x=x, y=y, text="label:N")
    )
    return alt.layer(corner, vertical, horizontal, dots, names, title=_("Delivery against wellbeing"))
