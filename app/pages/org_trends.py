"""Organisation trends (HR): anonymised trends by unit and construct, a heatmap with suppressed
cells shown as suppressed, participation, wellbeing by work pattern, norms and a CSV download.

Every number comes from the privacy gate's organisation functions, which refuse anyone but HR or
admin; the page only draws what they release. Each view and each download is audited.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics.aggregates import known_weeks, load_tree
from analytics.export import RECORD_COLUMNS
from analytics.gate import (
    PrivacyRules,
    organisation_figures,
    organisation_pattern_figures,
    organisation_quadrant,
    organisation_response_rates,
    require_hr,
)
from analytics.norms import with_norms
from analytics.outcomes import QUADRANT_RULE, QuadrantPoint
from app import ui
from app.charts.hr import heatmap_chart, norms_chart, participation_chart, pattern_chart, trend_chart
from app.charts.team import quadrant_chart
from models.access import AccessDenied, Viewer, load_viewer
from models.audit import record
from models.db import read_session, write_session

VIEWS_KEY = "org_trends_views_recorded"
DEFAULT_WEEKS = 12


def _engine(url: str):  # type: ignore[no-untyped-def]
    """The process engine for ``url`` (the cache wrappers are keyed by the database URL)."""
    return ui._engine_for(url)


def _hr_viewer(session, email: str) -> Viewer:  # type: ignore[no-untyped-def]
    viewer = load_viewer(session, email)
    if viewer is None:
        raise AccessDenied("Please sign in.")
    return viewer


@st.cache_data(max_entries=16, ttl=600, show_spinner=False)
def _units(url: str) -> pd.DataFrame:
    with read_session(_engine(url)) as session:
        tree = load_tree(session)
        weeks = known_weeks(session)
    rows = [
        {
            "id": unit.id,
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "depth": tree.depth(unit.id),
            "children": [tree.units[c].code for c in tree.children[unit.id]],
        }
        for unit_id in tree.postorder[::-1]
        for unit in [tree.units[unit_id]]
    ]
    return pd.DataFrame(rows).assign(weeks=[weeks] * len(rows)) if rows else pd.DataFrame()


@st.cache_data(max_entries=8, ttl=300, show_spinner=False)
def _figures(
    url: str, email: str, start: str, end: str, by: str, k: int, k_comments: int, pooling: int
) -> pd.DataFrame:
    rules = PrivacyRules(k, k_comments, pooling)
    with read_session(_engine(url)) as session:
        viewer = _hr_viewer(session, email)
        return organisation_figures(
            session=session, viewer=viewer, rules=rules, start_week=start, end_week=end, by=by
        )


@st.cache_data(max_entries=8, ttl=300, show_spinner=False)
def _rates(
    url: str, email: str, start: str, end: str, k: int, k_comments: int, pooling: int
) -> pd.DataFrame:
    rules = PrivacyRules(k, k_comments, pooling)
    with read_session(_engine(url)) as session:
        viewer = _hr_viewer(session, email)
        return organisation_response_rates(
            session=session, viewer=viewer, rules=rules, start_week=start, end_week=end, by="window"
        )


@st.cache_data(max_entries=8, ttl=300, show_spinner=False)
def _patterns(
    url: str, email: str, start: str, end: str, k: int, k_comments: int, pooling: int
) -> pd.DataFrame:
    rules = PrivacyRules(k, k_comments, pooling)
    with read_session(_engine(url)) as session:
        viewer = _hr_viewer(session, email)
        return organisation_pattern_figures(
            session=session, viewer=viewer, rules=rules, start_week=start, end_week=end
        )


@st.cache_data(max_entries=8, ttl=300, show_spinner=False)
def _quadrant(
    url: str, email: str, end: str, today: str, k: int, k_comments: int, pooling: int
) -> list[QuadrantPoint]:
    rules = PrivacyRules(k, k_comments, pooling)
    with read_session(_engine(url)) as session:
        viewer = _hr_viewer(session, email)
        return organisation_quadrant(
            session=session, viewer=viewer, rules=rules, end_week=end, today=date.fromisoformat(today)
        )


def _team_names_below(units: pd.DataFrame, code: str) -> set[str]:
    by_code = units.set_index("code")
    found, stack = set(), [code]
    while stack:
        current = stack.pop()
        row = by_code.loc[current]
        if row["kind"] == "team":
            found.add(row["name"])
        stack.extend(row["children"])
    return found


def _record_view(viewer: Viewer, unit_code: str, start: str, end: str) -> None:
    """Audit a view of the page (who, what, when) once per browser session and selection."""
    seen: list[str] = st.session_state.setdefault(VIEWS_KEY, [])
    key = f"{unit_code}:{start}:{end}"
    if key in seen:
        return
    with write_session(ui.engine()) as session:
        record(
            session,
            actor=viewer.email,
            action="view.org_trends",
            target=f"unit:{unit_code}",
            detail={"start_week": start, "end_week": end},
        )
    seen.append(key)


def _record_download(email: str, unit_code: str, start: str, end: str, records: int) -> None:
    """Audit a CSV download of gated figures."""
    with write_session(ui.engine()) as session:
        record(
            session,
            actor=email,
            action="export_aggregates",
            target=f"download unit:{unit_code}",
            detail={"start_week": start, "end_week": end, "by": "week", "record_count": records},
        )


def _label(row: pd.Series) -> str:
    return f"{'  ' * int(row['depth'])}{row['name']} ({row['kind']})"


def main() -> None:
    viewer = ui.require_viewer()
    st.title("Organisation trends")
    try:  # the gate's rule, decided on every view before any cached figure is served
        require_hr(viewer)
    except AccessDenied as error:
        st.error(str(error))
        st.stop()
    url = ui.settings().database_url
    units = _units(url)
    if units.empty or not units.iloc[0]["weeks"]:
        st.info("No pulse results yet.")
        return
    weeks: list[str] = list(units.iloc[0]["weeks"])
    rules = ui.settings().privacy_rules()
    thresholds = (rules.min_group_size, rules.min_comment_group_size, rules.pooling_weeks)
    st.caption(
        f"Anonymised: a figure needs at least {rules.min_group_size} responses; counts under 10 are "
        "shown as a band; cells hidden to protect a neighbouring group say so. Grey = suppressed."
    )

    parents = units[units["kind"] != "team"]
    filters = st.columns([2, 2, 1])
    with filters[0]:
        start, end = st.select_slider(
            "Period",
            options=weeks,
            value=(weeks[max(0, len(weeks) - DEFAULT_WEEKS)], weeks[-1]),
            key="org_trends_period",
        )
    with filters[1]:
        chosen = st.selectbox(
            "Unit (drill down by directorate)",
            options=list(parents["code"]),
            format_func={row["code"]: _label(row) for _, row in parents.iterrows()}.get,
            key="org_trends_unit",
        )
    with filters[2]:
        by = st.radio(
            "Trend figures",
            ["rolling", "week"],
            format_func={"rolling": "Rolling window", "week": "Weekly"}.get,
            key="org_trends_by",
        )
    unit_row = units[units["code"] == chosen].iloc[0]
    shown_codes = [chosen, *unit_row["children"]]
    _record_view(viewer, chosen, start, end)

    try:
        trend = _figures(url, viewer.email, start, end, by, *thresholds)
        window = _figures(url, viewer.email, start, end, "window", *thresholds)
        rates = _rates(url, viewer.email, start, end, *thresholds)
        slices = _patterns(url, viewer.email, start, end, *thresholds)
    except AccessDenied as error:
        st.error(str(error))
        st.stop()
    in_view = window[window["unit"].isin(shown_codes)]
    trend_in_view = trend[trend["unit"].isin(shown_codes)]

    tabs = st.tabs(
        [
            "Trends",
            "Heatmap",
            "Participation",
            "Work patterns",
            "Norms",
            "Outcomes x wellbeing",
            "Download",
        ]
    )
    with tabs[0]:
        constructs = sorted(set(trend_in_view["construct"])) or ["wellbeing"]
        construct = st.selectbox(
            "Construct",
            constructs,
            index=constructs.index("wellbeing") if "wellbeing" in constructs else 0,
            key="org_trends_construct",
        )
        st.altair_chart(trend_chart(trend_in_view, construct), width="stretch")
        hidden = trend_in_view[(trend_in_view["construct"] == construct) & trend_in_view["suppressed"]]
        if not hidden.empty:
            st.caption(
                f"{len(hidden)} unit-periods are suppressed and not drawn: "
                + ", ".join(f"{r} ({c})" for r, c in hidden["reason"].value_counts().items())
            )
    with tabs[1]:
        st.altair_chart(heatmap_chart(in_view), width="stretch")
    with tabs[2]:
        rates_in_view = rates[rates["unit"].isin(shown_codes)]
        st.altair_chart(participation_chart(rates_in_view), width="stretch")
        st.dataframe(
            rates_in_view[["unit_name", "rate_label", "responses", "members", "reason"]].astype(str),
            hide_index=True,
        )
    with tabs[3]:
        slices_in_view = slices[slices["unit"].isin(shown_codes)]
        st.altair_chart(pattern_chart(slices_in_view), width="stretch")
        withheld = slices_in_view[slices_in_view["suppressed"]].drop_duplicates("unit")
        for row in withheld.itertuples():
            st.caption(f"{row.unit_name}: work-pattern breakdown withheld ({row.reason}).")
    with tabs[4]:
        st.altair_chart(norms_chart(with_norms(in_view)), width="stretch")
        table = with_norms(in_view)
        st.dataframe(
            table[~table["suppressed"]][
                ["unit_name", "construct", "mean", "ci_low", "ci_high", "n", "norm"]
            ].astype({"n": str}),
            hide_index=True,
        )
    with tabs[5]:
        points = _quadrant(url, viewer.email, end, date.today().isoformat(), *thresholds)
        names = _team_names_below(units, chosen)
        points = [point for point in points if point.team in names]
        st.altair_chart(quadrant_chart(points), width="stretch")
        st.caption(QUADRANT_RULE)
        unplaced = [point for point in points if point.quadrant is None]
        if unplaced:
            st.dataframe(
                pd.DataFrame([{"team": p.team, "why not shown": p.note} for p in unplaced]),
                hide_index=True,
            )
    with tabs[6]:
        st.write("Gated figures for the selected unit and the units below it, one per week.")
        weekly = trend if by == "week" else _figures(url, viewer.email, start, end, "week", *thresholds)
        weekly = weekly[weekly["unit"].isin(shown_codes)]
        st.download_button(
            "Download CSV",
            data=weekly[list(RECORD_COLUMNS)].to_csv(index=False),
            file_name=f"wellbeing-{chosen}-{start}-{end}.csv",
            mime="text/csv",
            on_click=_record_download,
            args=(viewer.email, chosen, start, end, len(weekly)),
            key="org_trends_download",
        )


main()
