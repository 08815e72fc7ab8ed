"""Organisation trends charts (HR): pure functions from the gate's frames to Altair charts.

They draw only released figures as numbers; suppressed cells appear as suppressed (grey, with the
reason on hover), never with a value.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from analytics.norms import norm_lines
from app.charts import palette
from app.charts.text import label
from app.i18n import _

SUPPRESSED_GREY = palette.SUPPRESSED
# Scale of each construct (low, high, higher_is_better), to colour the heatmap on one axis.
SCALES: dict[str, tuple[float, float, bool]] = {
    "wellbeing": (0, 100, True),
    "demands": (1, 5, True),
    "control": (1, 5, True),
    "manager_support": (1, 5, True),
    "peer_support": (1, 5, True),
    "relationships": (1, 5, True),
    "role": (1, 5, True),
    "change": (1, 5, True),
    "life_satisfaction": (0, 10, True),
    "worthwhile": (0, 10, True),
    "happiness": (0, 10, True),
    "anxiety": (0, 10, False),
    "swemwbs": (7, 35, True),
}


def _released(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[(~frame["suppressed"].astype(bool)) & frame["mean"].notna()].copy()


def _empty(message: str) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"text": [message]})).mark_text(size=14).encode(text="text:N")


def _unit_colour(rows: pd.DataFrame) -> alt.Color:
    """One palette colour per unit (units are also told apart by shape and named in the table)."""
    units = sorted(set(rows["unit_name"]))
    return alt.Color(
        "unit_name:N",
        title=_("Unit"),
        scale=alt.Scale(domain=units, range=palette.categorical(len(units))),
    )


def trend_chart(figures: pd.DataFrame, construct: str) -> alt.Chart:
    """Released means of one construct, one line per unit, one point per released period (no
    interval: a cell's own spread is never released)."""
    rows = _released(figures)
    rows = rows[rows["construct"] == construct] if not rows.empty else rows
    if rows.empty:
        return _empty(_("No released figures for this selection."))
    rows = rows.assign(n_text=rows["n"].astype(str))
    return (
        alt.Chart(rows, title=_("{construct} by unit").format(construct=label(construct)))
        .mark_line(point=True)
        .encode(
            x=alt.X("period:O", title=_("Period")),
            y=alt.Y("mean:Q", title=_("Mean"), scale=alt.Scale(zero=False)),
            color=_unit_colour(rows),
            shape=alt.Shape("unit_name:N", title=_("Unit")),
            tooltip=[
                alt.Tooltip("unit_name:N", title=_("Unit")),
                alt.Tooltip("period:N", title=_("Period")),
                alt.Tooltip("period_start:N", title=_("From week")),
                alt.Tooltip("period_end:N", title=_("To week")),
                alt.Tooltip("mean:Q", title=_("Mean")),
                alt.Tooltip("n_text:N", title=_("People")),
            ],
        )
    )


def heatmap_chart(figures: pd.DataFrame) -> alt.Chart:
    """Units x constructs over one period. Released cells are coloured by where the mean sits on
    its scale (higher = better, anxiety reversed); suppressed cells are grey, crossed, with the
    reason on hover."""
    if figures.empty:
        return _empty(_("No figures for this selection."))
    frame = figures.copy()

    def position(row: pd.Series) -> float | None:
        if row["suppressed"] or pd.isna(row["mean"]) or row["construct"] not in SCALES:
            return None
        low, high, better_high = SCALES[row["construct"]]
        share = (float(row["mean"]) - low) / (high - low)
        return round(100 * (share if better_high else 1 - share), 1)

    frame["position"] = frame.apply(position, axis=1)
    frame["shown"] = [
        "suppressed" if suppressed else f"{mean:.2f}"
        for suppressed, mean in zip(frame["suppressed"], frame["mean"], strict=True)
    ]
    frame["why"] = frame["reason"].fillna("released")
    frame["n_text"] = frame["n"].map(lambda n: "" if n is None or pd.isna(n) else str(n))
    encoding = {
        "x": alt.X("construct:N", title=_("Construct")),
        "y": alt.Y("unit_name:N", title=_("Unit")),
        "tooltip": [
            alt.Tooltip("unit_name:N", title=_("Unit")),
            alt.Tooltip("construct:N", title=_("Construct")),
            alt.Tooltip("shown:N", title=_("Mean")),
            alt.Tooltip("n_text:N", title=_("People")),
            alt.Tooltip("why:N", title=_("Status")),
        ],
    }
    released = frame[~frame["suppressed"].astype(bool)]
    suppressed = frame[frame["suppressed"].astype(bool)]
    cells = (
        alt.Chart(released)
        .mark_rect()
        .encode(
            color=alt.Color(
                "position:Q",
                title=_("Position on scale (higher is better)"),
                scale=alt.Scale(domain=[0, 50, 100], range=list(palette.DIVERGING)),
            ),
            **encoding,
        )
    )
    # Each released cell also says its mean, so the colour is never the only carrier.
    values = (
        alt.Chart(released)
        .mark_text(size=12, color=palette.ON_FILL_TEXT)
        .encode(text="shown:N", **encoding)
    )
    hidden = alt.Chart(suppressed).mark_rect(color=SUPPRESSED_GREY).encode(**encoding)
    crosses = (
        alt.Chart(suppressed).mark_text(text="×", size=16, color=palette.MARK_TEXT).encode(**encoding)
    )
    title = _("Units x constructs (grey with a cross: suppressed; hover for the reason)")
    return alt.layer(cells, values, hidden, crosses, title=title)


def participation_chart(rates: pd.DataFrame) -> alt.Chart:
    """Response rate by unit: a bar where the rate is released exactly (10+ people); a banded rate
    is drawn as the range it allows, a suppressed unit only says so."""
    if rates.empty:
        return _empty(_("No participation figures."))
    frame = rates[["unit_name", "rate_label", "low", "high"]].copy()
    frame["low"] = frame["low"].astype(float)
    frame["high"] = frame["high"].astype(float)
    # An explicit order: Vega-Lite crashes on sort="-x" in a layer (vega/vega-lite#7418, "Cannot
    # destructure property 'aggregate'"), which left this chart blank.
    order = list(frame.sort_values(["low", "unit_name"], ascending=[False, True])["unit_name"])
    base = alt.Chart(frame, title=_("Participation (people who answered / people in the unit)")).encode(
        y=alt.Y("unit_name:N", title=_("Unit"), sort=order),
        tooltip=[
            alt.Tooltip("unit_name:N", title=_("Unit")),
            alt.Tooltip("rate_label:N", title=_("Response rate")),
        ],
    )
    axis = alt.X(
        "low:Q", title=_("Response rate"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
    )
    at_least = base.mark_bar(color=palette.CATEGORICAL[0]).encode(x=axis)
    # The range a band allows: an outlined bar, told apart from the solid part by its outline.
    band = base.mark_bar(
        color=palette.CATEGORICAL[0], fillOpacity=0.2, stroke=palette.CATEGORICAL[0], strokeWidth=1.5
    ).encode(x=axis, x2="high:Q")
    return alt.layer(at_least, band)


def pattern_chart(slices: pd.DataFrame, construct: str = "wellbeing") -> alt.Chart:
    """Mean by work pattern per unit (released slices only)."""
    rows = _released(slices)
    if rows.empty:
        return _empty(_("No work-pattern slice passes the privacy gate for this selection."))
    rows = rows.assign(n_text=rows["n"].astype(str))
    return (
        alt.Chart(rows, title=_("{construct} by work pattern").format(construct=label(construct)))
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("work_pattern:N", title=_("Work pattern")),
            xOffset="unit_name:N",
            color=_unit_colour(rows),
            shape=alt.Shape("unit_name:N", title=_("Unit")),
            y=alt.Y("mean:Q", title=_("Mean"), scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("unit_name:N", title=_("Unit")),
                alt.Tooltip("work_pattern:N", title=_("Pattern")),
                alt.Tooltip("mean:Q", title=_("Mean")),
                alt.Tooltip("n_text:N", title=_("People")),
            ],
        )
    )


def norms_chart(figures: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Released means beside published norms (WHO-5 cut-off 50, HSE p20/p50/p80,
    ONS4 UK averages), one panel per scale so each axis is honest."""
    rows = _released(figures)
    if rows.empty:
        return _empty(_("No released figures to compare with norms."))
    panels = []
    groups = {
        "WHO-5 wellbeing (0-100)": ["wellbeing"],
        "HSE Management Standards (1-5, higher is better)": [
            "demands",
            "control",
            "manager_support",
            "peer_support",
            "relationships",
            "role",
            "change",
        ],
        "ONS4 personal wellbeing (0-10)": ["life_satisfaction", "worthwhile", "happiness", "anxiety"],
    }
    for title, constructs in groups.items():
        data = rows[rows["construct"].isin(constructs)]
        if data.empty:
            continue
        norms = pd.DataFrame([vars(line) for line in norm_lines(sorted(set(data["construct"])))])
        base = alt.Chart(data).encode(y=alt.Y("construct:N", title=None))
        point = base.mark_point(filled=True, size=70).encode(
            x=alt.X("mean:Q", title=_("Mean")),
            color=_unit_colour(data),
            shape=alt.Shape("unit_name:N", title=_("Unit")),
            tooltip=[
                alt.Tooltip("unit_name:N", title=_("Unit")),
                alt.Tooltip("construct:N"),
                alt.Tooltip("mean:Q", format=".2f"),
                alt.Tooltip("norm:N", title=_("Against the norm")) if "norm" in data else "mean:Q",
            ],
        )
        ticks = (
            alt.Chart(norms)
            .mark_tick(thickness=3, size=22)
            .encode(
                x="value:Q",
                y=alt.Y("construct:N"),
                color=alt.Color(
                    "label:N", title=_("Norm"), scale=alt.Scale(range=list(palette.NORM_GREYS))
                ),
                tooltip=["label:N", alt.Tooltip("value:Q", format=".2f"), "source:N"],
            )
        )
        panels.append(alt.layer(ticks, point, title=title).resolve_scale(color="independent"))
    if not panels:
        return _empty(_("No construct with a published norm in this selection."))
    return alt.vconcat(*panels)
