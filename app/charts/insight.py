"""Insight charts: what drives wellbeing here (ranked, with intervals), the priority matrix, and
action effects against comparison teams. Pure functions from released records to Altair charts.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from app.charts import palette
from app.i18n import N_, _

# Marked for translation here, translated where drawn.
IMPORTANCE_TITLE = N_("Importance (share of wellbeing differences explained)")


def _empty(message: str) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"text": [message]})).mark_text(size=14).encode(text="text:N")


def driver_chart(records: Sequence[dict]) -> alt.Chart:
    """Drivers ranked by importance, each with its 95% bootstrap interval."""
    if not records:
        return _empty(_("No driver analysis released for this group."))
    frame = pd.DataFrame(records)
    order = list(frame.sort_values("importance", ascending=False)["label"])
    base = alt.Chart(frame, title=_("What matters most here")).encode(
        y=alt.Y("label:N", sort=order, title=_("Work condition"))
    )
    tooltip = [
        alt.Tooltip("label:N", title=_("Work condition")),
        alt.Tooltip("importance:Q", title=_("Importance"), format=".3f"),
        alt.Tooltip("low:Q", title=_("95% interval from"), format=".3f"),
        alt.Tooltip("high:Q", title=_("95% interval to"), format=".3f"),
    ]
    bars = base.mark_bar(color=palette.CATEGORICAL[0]).encode(
        x=alt.X("importance:Q", title=_(IMPORTANCE_TITLE)), tooltip=tooltip
    )
    whiskers = base.mark_rule(color=palette.MARK_TEXT).encode(x="low:Q", x2="high:Q", tooltip=tooltip)
    return alt.layer(bars, whiskers)


ZONES = ("Work on first", "Keep an eye on")


def priority_zones(records: Sequence[dict]) -> pd.DataFrame:
    """The drivers with a released score, each in its zone: "Work on first" when at least as
    important as the median driver and scoring at most the median score."""
    shown = [r for r in records if r.get("score") is not None]
    if not shown:
        return pd.DataFrame(columns=["label", "importance", "score", "zone"])
    frame = pd.DataFrame(shown)
    middle_importance = float(frame["importance"].median())
    middle_score = float(frame["score"].median())
    return frame.assign(
        zone=[
            ZONES[0] if i >= middle_importance and s <= middle_score else ZONES[1]
            for i, s in zip(frame["importance"], frame["score"], strict=True)
        ]
    )


def priority_chart(records: Sequence[dict], *, score_title: str | None = None) -> alt.Chart:
    """Importance against the unit's released score: top-left (important, low score) first; the
    zone is told by colour and by shape (a triangle to work on first)."""
    frame = priority_zones(records)
    if frame.empty:
        return _empty(_("No released scores to place the drivers against."))
    middle_importance = float(frame["importance"].median())
    middle_score = float(frame["score"].median())
    points = (
        alt.Chart(frame, title=_("Priority matrix: high importance and low score first"))
        .mark_point(filled=True, size=120)
        .encode(
            x=alt.X("importance:Q", title=_(IMPORTANCE_TITLE)),
            y=alt.Y(
                "score:Q", title=score_title or _("This unit's score (1-5)"), scale=alt.Scale(zero=False)
            ),
            color=alt.Color(
                "zone:N", title="", scale=alt.Scale(domain=ZONES, range=[palette.BAD, palette.NEUTRAL])
            ),
            shape=alt.Shape(
                "zone:N", title="", scale=alt.Scale(domain=ZONES, range=["triangle-up", "circle"])
            ),
            tooltip=[
                alt.Tooltip("label:N", title=_("Work condition")),
                alt.Tooltip("importance:Q", title=_("Importance"), format=".3f"),
                alt.Tooltip("score:Q", title=_("Score"), format=".1f"),
                alt.Tooltip("zone:N", title=_("Priority")),
            ],
        )
    )
    labels = (
        alt.Chart(frame)
        .mark_text(align="left", dx=8, color=palette.MARK_TEXT)
        .encode(x="importance:Q", y="score:Q", text="label:N")
    )
    rule_x = (
        alt.Chart(pd.DataFrame({"x": [middle_importance]}))
        .mark_rule(strokeDash=[4, 4], color=palette.RULE)
        .encode(x="x:Q")
    )
    rule_y = (
        alt.Chart(pd.DataFrame({"y": [middle_score]}))
        .mark_rule(strokeDash=[4, 4], color=palette.RULE)
        .encode(y="y:Q")
    )
    return alt.layer(points, labels, rule_x, rule_y)


def effects_chart(overview: pd.DataFrame) -> alt.Chart:
    """Each measured action's effect on wellbeing with its interval, against zero."""
    measured = overview[overview["estimate"].notna()] if not overview.empty else overview
    if measured.empty:
        return _empty(_("No action has enough released months on both sides yet."))
    frame = measured.assign(action=measured["team"] + ": " + measured["title"])
    base = alt.Chart(frame, title=_("Effect on wellbeing compared with similar teams")).encode(
        y=alt.Y("action:N", title=_("Action"))
    )
    tooltip = [
        alt.Tooltip("action:N", title=_("Action")),
        alt.Tooltip("effect:N", title=_("Result")),
        alt.Tooltip("estimate:Q", title=_("Effect (points)"), format="+.0f"),
        alt.Tooltip("low:Q", title=_("95% from"), format="+.0f"),
        alt.Tooltip("high:Q", title=_("95% to"), format="+.0f"),
        alt.Tooltip("comparison_teams:Q", title=_("Comparison teams")),
    ]
    results = ["improved", "no clear change", "worse"]
    colour = alt.Color(
        "effect:N",
        title=_("Result"),
        scale=alt.Scale(domain=results, range=[palette.GOOD, palette.NEUTRAL, palette.BAD]),
    )
    shape = alt.Shape(
        "effect:N",
        title=_("Result"),
        scale=alt.Scale(domain=results, range=["triangle-up", "circle", "triangle-down"]),
    )
    rules = base.mark_rule().encode(
        x=alt.X("low:Q", title=_("Effect on wellbeing (points, 0-100)")), x2="high:Q", color=colour
    )
    dots = base.mark_point(filled=True, size=80).encode(
        x="estimate:Q", color=colour, shape=shape, tooltip=tooltip
    )
    zero = (
        alt.Chart(pd.DataFrame({"x": [0]}))
        .mark_rule(strokeDash=[4, 4], color=palette.RULE)
        .encode(x="x:Q")
    )
    return alt.layer(rules, dots, zero)
