"""The insight charts in words and tables (see ``app.charts.text``): the same released records the
charts in ``app.charts.insight`` draw."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from app.charts.insight import priority_zones
from app.charts.text import ChartText, chart_text, listing, number, readable, signed
from app.i18n import _


def driver_text(records: Sequence[dict]) -> ChartText:
    """Drivers ranked by importance with their intervals."""
    if not records:
        return ChartText(_("No driver analysis released for this group."))
    frame = pd.DataFrame(records).sort_values("importance", ascending=False)
    summary = _("What matters most here, most important first: {names}.").format(
        names=listing(list(frame["label"]), limit=3)
    )
    table = frame.assign(
        importance=frame["importance"].map(lambda v: number(v, 3)),
        low=frame["low"].map(lambda v: number(v, 3)),
        high=frame["high"].map(lambda v: number(v, 3)),
    )
    return chart_text(
        summary,
        table,
        {
            "label": _("Work condition"),
            "importance": _("Importance"),
            "low": _("95% interval from"),
            "high": _("95% interval to"),
        },
    )


def priority_text(records: Sequence[dict]) -> ChartText:
    """The priority matrix: which conditions to work on first (important, low score)."""
    frame = priority_zones(records)
    if frame.empty:
        return ChartText(_("No released scores to place the drivers against."))
    first = list(frame[frame["zone"] == "Work on first"]["label"])
    summary = _("Priority matrix of {count} work conditions; work on first: {names}.").format(
        count=len(frame), names=listing(first) or _("none")
    )
    table = frame.assign(
        importance=frame["importance"].map(lambda v: number(v, 3)),
        score=frame["score"].map(number),
    )
    return chart_text(
        summary,
        table,
        {
            "label": _("Work condition"),
            "importance": _("Importance"),
            "score": _("Score"),
            "zone": _("Priority"),
        },
    )


def effects_text(overview: pd.DataFrame) -> ChartText:
    """Each measured action's effect against comparison teams."""
    measured = overview[overview["estimate"].notna()] if not overview.empty else overview
    if measured.empty:
        return ChartText(_("No action has enough released months on both sides yet."))
    counts = measured["effect"].value_counts()
    summary = _(
        "Effect on wellbeing of {count} measured actions compared with similar teams: "
        "{improved} improved, {same} no clear change, {worse} worse."
    ).format(
        count=len(measured),
        improved=int(counts.get("improved", 0)),
        same=int(counts.get("no clear change", 0)),
        worse=int(counts.get("worse", 0)),
    )
    table = _effects(measured).assign(action=measured["team"] + ": " + measured["title"])
    return chart_text(summary, table, {"action": _("Action"), **_effect_headings()})


def actions_table(overview: pd.DataFrame) -> pd.DataFrame:
    """HR's list of every action, under readable headings (the CSV keeps the field names)."""
    table = _effects(overview).assign(taken_on=overview["taken_on"].astype(str))
    return readable(
        table,
        {
            "unit": _("Unit"),
            "team": _("Team"),
            "title": _("What was done"),
            "in_response_to": _("In response to"),
            "status": _("Status"),
            "taken_on": _("Taken on"),
            **_effect_headings(),
            "summary": _("Summary"),
        },
    )


def _effects(overview: pd.DataFrame) -> pd.DataFrame:
    """Each action's effect and interval with their signs and its comparison teams as a count:
    the chart's table and HR's list of actions show an effect the same way."""
    return overview.assign(
        estimate=overview["estimate"].map(signed),
        low=overview["low"].map(signed),
        high=overview["high"].map(signed),
        comparison_teams=overview["comparison_teams"].map(lambda v: number(v, 0)),
    )


def _effect_headings() -> dict[str, str]:
    """The headings of ``_effects``' columns, in the order both tables show them."""
    return {
        "effect": _("Result"),
        "estimate": _("Effect (points)"),
        "low": _("95% from"),
        "high": _("95% to"),
        "comparison_teams": _("Comparison teams"),
    }
