"""The Organisation trends charts in words and tables (see ``app.charts.text``): each function takes
exactly what its chart in ``app.charts.hr`` takes, so it tells what the chart draws and no more."""

from __future__ import annotations

import pandas as pd

from app.charts.text import (
    ChartText,
    chart_text,
    label,
    missing,
    number,
    people,
    readable,
    released_figures,
)
from app.i18n import _


def _released(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[(~frame["suppressed"].astype(bool)) & frame["mean"].notna()]


def _extremes(rows: pd.DataFrame, name: str, digits: int = 1) -> str:
    """ "highest X (m), lowest Y (m)" over ``rows`` (one row per thing named by ``name``)."""
    if rows.empty:
        return ""
    ordered = rows.sort_values(["mean", name], ascending=[False, True])
    top, bottom = ordered.iloc[0], ordered.iloc[-1]
    if len(ordered) == 1:
        return _("{name} {mean}").format(name=top[name], mean=number(top["mean"], digits))
    return _("highest {top} ({top_mean}), lowest {bottom} ({bottom_mean})").format(
        top=top[name],
        top_mean=number(top["mean"], digits),
        bottom=bottom[name],
        bottom_mean=number(bottom["mean"], digits),
    )


def _by_unit(summary: str, rows: pd.DataFrame, key: str, headings: dict[str, str]) -> ChartText:
    """``summary`` with the released ``rows`` one per unit and ``key``, under Unit, ``headings``,
    Mean and People: the trend and work-pattern charts' tables, laid out alike."""
    return chart_text(
        summary,
        released_figures(rows).sort_values(["unit_name", key]),
        {"unit_name": _("Unit"), **headings, "mean": _("Mean"), "n": _("People")},
    )


def trend_text(figures: pd.DataFrame, construct: str) -> ChartText:
    """The trend chart: how many units and periods are drawn, and the latest spread."""
    rows = _released(figures)
    rows = rows[rows["construct"] == construct] if not rows.empty else rows
    if rows.empty:
        return ChartText(_("No released figures for this selection."))
    periods = sorted(set(rows["period"]))
    latest = rows[rows["period"] == periods[-1]]
    summary = _(
        "{construct} by unit: {units} units over {count} released periods, {first} to {last}. "
        "In {last}: {extremes}."
    ).format(
        construct=label(construct),
        units=rows["unit_name"].nunique(),
        count=len(periods),
        first=periods[0],
        last=periods[-1],
        extremes=_extremes(latest, "unit_name"),
    )
    return _by_unit(
        summary,
        rows,
        "period",
        {"period": _("Period"), "period_start": _("From week"), "period_end": _("To week")},
    )


def heatmap_text(figures: pd.DataFrame) -> ChartText:
    """The heatmap: how many cells are released and suppressed, every cell in the table."""
    if figures.empty:
        return ChartText(_("No figures for this selection."))
    released = _released(figures)
    summary = _(
        "Units by measure, latest period: {released} of {total} cells released, {hidden} suppressed."
    ).format(released=len(released), total=len(figures), hidden=len(figures) - len(released))
    suppressed = figures["suppressed"].astype(bool)
    table = figures.assign(
        construct=figures["construct"].map(label),
        mean=[
            _("suppressed") if hidden or missing(mean) else number(mean, 2)
            for hidden, mean in zip(suppressed, figures["mean"], strict=True)
        ],
        n=figures["n"].map(people),
        reason=[
            (reason if not missing(reason) else _("suppressed")) if hidden else _("released")
            for hidden, reason in zip(suppressed, figures["reason"], strict=True)
        ],
    )
    return chart_text(
        summary,
        table.sort_values(["unit_name", "construct"]),
        {
            "unit_name": _("Unit"),
            "construct": _("Measure"),
            "mean": _("Mean"),
            "n": _("People"),
            "reason": _("Status"),
        },
    )


def participation_table(rates: pd.DataFrame) -> pd.DataFrame:
    """Every unit's response rate in words (a band as its range, a hidden one with its reason)."""
    return readable(
        rates.assign(people=rates["people"].map(people)),
        {"unit_name": _("Unit"), "rate_label": _("Response rate"), "people": _("People")},
    )


def participation_text(rates: pd.DataFrame) -> ChartText:
    """The participation chart (units with a rate or a range) and the table of every unit."""
    drawn = rates[rates["low"].notna()] if not rates.empty else rates
    if drawn.empty:
        return ChartText(_("No participation figures."), participation_table(rates))
    exact = drawn[drawn["low"] == drawn["high"]]
    ordered = drawn.sort_values(["low", "unit_name"], ascending=[False, True])
    summary = _(
        "Response rate of {drawn} units ({exact} exact, {banded} as a range; {hidden} not shown): "
        "highest {top} ({top_rate}), lowest {bottom} ({bottom_rate})."
    ).format(
        drawn=len(drawn),
        exact=len(exact),
        banded=len(drawn) - len(exact),
        hidden=len(rates) - len(drawn),
        top=ordered.iloc[0]["unit_name"],
        top_rate=ordered.iloc[0]["rate_label"],
        bottom=ordered.iloc[-1]["unit_name"],
        bottom_rate=ordered.iloc[-1]["rate_label"],
    )
    return ChartText(summary, participation_table(rates))


def pattern_text(slices: pd.DataFrame, construct: str = "wellbeing") -> ChartText:
    """The work-pattern chart: released slices only."""
    rows = _released(slices)
    if rows.empty:
        return ChartText(_("No work-pattern slice passes the privacy gate for this selection."))
    by_pattern = rows.groupby("work_pattern", as_index=False)["mean"].mean()
    summary = _("{construct} by work pattern in {units} units: {extremes} (average of units).").format(
        construct=label(construct),
        units=rows["unit_name"].nunique(),
        extremes=_extremes(by_pattern, "work_pattern"),
    )
    return _by_unit(summary, rows, "work_pattern", {"work_pattern": _("Work pattern")})


def norms_text(figures: pd.DataFrame) -> ChartText:
    """The norms chart: released means and where each sits against its published norm."""
    rows = _released(figures)
    if rows.empty:
        return ChartText(_("No released figures to compare with norms."))
    has_norm = "norm" in rows
    summary = _("{count} released means beside their published norms, {units} units.").format(
        count=len(rows), units=rows["unit_name"].nunique()
    )
    table = released_figures(rows, 2).assign(construct=rows["construct"].map(label))
    columns = {"unit_name": _("Unit"), "construct": _("Measure"), "mean": _("Mean"), "n": _("People")}
    if has_norm:
        columns["norm"] = _("Against the norm")
    return chart_text(summary, table.sort_values(["unit_name", "construct"]), columns)
