"""Organisation trends (HR): anonymised trends by unit and construct, a heatmap with suppressed
cells shown as suppressed, participation, wellbeing by work pattern, norms and a CSV download.

Every number comes from the privacy gate's organisation functions, which refuse anyone but HR or
admin; the page only draws what they release. Each view and each download is audited.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics.aggregates import load_tree
from analytics.norms import with_norms
from analytics.outcomes import QUADRANT_RULE, QuadrantPoint
from analytics.privacy import (
    PARTICIPATION,
    RECORD_COLUMNS,
    organisation_figures,
    released_periods,
    require_hr,
)
from analytics.privacy.quadrant import organisation_quadrant
from analytics.privacy.rules import SLICE_PERIOD, rate_bounds
from app import ui
from app.charts.hr import heatmap_chart, norms_chart, participation_chart, pattern_chart, trend_chart
from app.charts.hr_text import (
    heatmap_text,
    norms_text,
    participation_table,
    participation_text,
    pattern_text,
    trend_text,
)
from app.charts.team import quadrant_chart
from app.charts.team_text import quadrant_text
from app.charts.text import missing
from app.components.chart_text import show_chart
from app.i18n import _
from models.access import AccessDenied, Viewer, load_viewer
from models.audit import record
from models.csv_safe import frame_to_csv
from models.db import read_session, write_session

VIEWS_KEY = "org_trends_views_recorded"
DEFAULT_PERIODS = {"week": 12, "month": 6, "quarter": 4}
KIND_LABELS = {"week": "Weeks", "month": "Months", "quarter": "Quarters"}


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
    return pd.DataFrame(rows)


@st.cache_data(max_entries=16, ttl=300, show_spinner=False)
def _released(url: str, kind: str) -> list[str]:
    with read_session(_engine(url)) as session:
        return released_periods(session, kind=kind)  # type: ignore[arg-type]


@st.cache_data(max_entries=16, ttl=300, show_spinner=False)
def _figures(
    url: str, email: str, kind: str, periods: tuple[str, ...], slices: bool = False
) -> pd.DataFrame:
    """Released cells of the chosen periods (read from the store; cached by what was released)."""
    with read_session(_engine(url)) as session:
        viewer = _hr_viewer(session, email)
        return organisation_figures(
            session=session,
            viewer=viewer,
            kind=kind,
            periods=list(periods),
            slices=slices,  # type: ignore[arg-type]
        )


@st.cache_data(max_entries=8, ttl=300, show_spinner=False)
def _quadrant(url: str, email: str, today: str, released: tuple[str, ...]) -> list[QuadrantPoint]:
    del released  # keys the cache: a new release is a new entry
    with read_session(_engine(url)) as session:
        viewer = _hr_viewer(session, email)
        return organisation_quadrant(session=session, viewer=viewer, today=date.fromisoformat(today))


def _rates_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Participation cells in words, with the range each rate allows for the chart."""
    rows = []
    for row in cells.itertuples(index=False):
        rate = None if row.suppressed or missing(row.rate) else row.rate
        low = high = None
        if rate:
            low, high = rate_bounds(rate)
        rows.append(
            {
                "unit_name": row.unit_name,
                "rate_label": rate or f"not shown ({row.reason})",
                "low": low,
                "high": high,
                "people": row.n or "",
            }
        )
    return pd.DataFrame(rows, columns=["unit_name", "rate_label", "low", "high", "people"])


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
            detail={"from": start, "to": end},
        )
    seen.append(key)


def _record_download(email: str, unit_code: str, start: str, end: str, records: int) -> None:
    """Audit a CSV download of released figures."""
    with write_session(ui.engine()) as session:
        record(
            session,
            actor=email,
            action="export_aggregates",
            target=f"download unit:{unit_code}",
            detail={"from": start, "to": end, "record_count": records},
        )


def _label(row: pd.Series) -> str:
    return f"{'  ' * int(row['depth'])}{row['name']} ({row['kind']})"


def main() -> None:
    viewer = ui.require_viewer()
    st.title(_("Organisation trends"))
    try:  # the gate's rule, decided on every view before any cached figure is served
        require_hr(viewer)
    except AccessDenied as error:
        st.error(str(error))
        st.stop()
    url = ui.settings().database_url
    units = _units(url)
    rules = ui.settings().privacy_rules()
    st.caption(
        _(
            "Anonymised: a figure needs at least {k} different people; counts under "
            "10 are shown as a band; a period appears only once it has closed and been released, "
            "and never changes after that. Cells hidden to protect a neighbouring group or period "
            "say so. Grey = suppressed."
        ).format(k=rules.min_group_size)
    )
    parents = units[units["kind"] != "team"] if not units.empty else units
    filters = st.columns([1, 2, 2])
    with filters[0]:
        kind = st.radio(
            _("Periods"),
            list(KIND_LABELS),
            format_func=KIND_LABELS.get,
            key="org_trends_kind",
            horizontal=True,
        )
    released = _released(url, kind)
    if units.empty or not released:
        st.info(_("No released figures yet: a week is released a few days after it closes."))
        return
    with filters[1]:
        default_start = released[max(0, len(released) - DEFAULT_PERIODS[kind])]
        if len(released) > 1:
            start, end = st.select_slider(
                _("Released periods"),
                options=released,
                value=(default_start, released[-1]),
                key=f"org_trends_{kind}",
            )
        else:
            start = end = released[0]
            st.text(_("Released period: {period}").format(period=start))
    with filters[2]:
        chosen = st.selectbox(
            _("Unit (drill down by directorate)"),
            options=list(parents["code"]),
            format_func={row["code"]: _label(row) for _, row in parents.iterrows()}.get,
            key="org_trends_unit",
        )
    periods = tuple(p for p in released if start <= p <= end)
    unit_row = units[units["code"] == chosen].iloc[0]
    shown_codes = [chosen, *unit_row["children"]]
    _record_view(viewer, chosen, start, end)
    try:
        figures = _figures(url, viewer.email, kind, periods)
        quarters = _released(url, SLICE_PERIOD)
        slices = _figures(url, viewer.email, SLICE_PERIOD, tuple(quarters[-1:]), True)
    except AccessDenied as error:
        st.error(ui.escape_markdown(error))
        st.stop()
    in_view = figures[figures["unit"].isin(shown_codes)]
    latest = in_view[in_view["period"] == periods[-1]]
    constructs_view = in_view[in_view["construct"] != PARTICIPATION]
    latest_constructs = latest[latest["construct"] != PARTICIPATION]

    tabs = st.tabs(
        [
            _("Trends"),
            _("Heatmap"),
            _("Participation"),
            _("Work patterns"),
            _("Norms"),
            _("Outcomes x wellbeing"),
            _("Download"),
            _("Drivers and actions"),
        ]
    )
    with tabs[0]:
        constructs = sorted(set(constructs_view["construct"])) or ["wellbeing"]
        construct = st.selectbox(
            _("Construct"),
            constructs,
            index=constructs.index("wellbeing") if "wellbeing" in constructs else 0,
            key="org_trends_construct",
        )
        show_chart(trend_chart(constructs_view, construct), trend_text(constructs_view, construct))
        hidden = constructs_view[
            (constructs_view["construct"] == construct) & constructs_view["suppressed"]
        ]
        if not hidden.empty:
            st.caption(
                _("{count} unit-periods are suppressed and not drawn: ").format(count=len(hidden))
                + ", ".join(f"{r} ({c})" for r, c in hidden["reason"].value_counts().items())
            )
    with tabs[1]:
        st.caption(_("Latest released period: {period}.").format(period=periods[-1]))
        show_chart(heatmap_chart(latest_constructs), heatmap_text(latest_constructs))
    with tabs[2]:
        rates = _rates_table(latest[latest["construct"] == PARTICIPATION])
        st.caption(
            _("Latest released period: {period}. A rate under 10 people is shown as a range.").format(
                period=periods[-1]
            )
        )
        if rates["low"].notna().any():  # the table of every unit is in the chart's expander
            show_chart(participation_chart(rates[rates["low"].notna()]), participation_text(rates))
        else:
            st.dataframe(participation_table(rates), hide_index=True)
    with tabs[3]:
        st.caption(
            _("Latest released quarter: {quarter}.").format(
                quarter=quarters[-1] if quarters else _("none yet")
            )
        )
        slices_in_view = slices[slices["unit"].isin(shown_codes)]
        show_chart(pattern_chart(slices_in_view), pattern_text(slices_in_view))
        withheld = slices_in_view[slices_in_view["suppressed"]].drop_duplicates("unit")
        for row in withheld.itertuples():
            st.caption(
                _("{unit}: work-pattern breakdown withheld ({reason}).").format(
                    unit=ui.escape_markdown(row.unit_name), reason=row.reason
                )
            )
    with tabs[4]:
        table = with_norms(latest_constructs)
        show_chart(norms_chart(table), norms_text(table))
    with tabs[5]:
        points = _quadrant(url, viewer.email, date.today().isoformat(), tuple(_released(url, "week")))
        names = _team_names_below(units, chosen)
        points = [point for point in points if point.team in names]
        show_chart(quadrant_chart(points), quadrant_text(points))
        st.caption(QUADRANT_RULE)
        unplaced = [point for point in points if point.quadrant is None]
        if unplaced:
            st.dataframe(
                pd.DataFrame([{"Team": p.team, "Why not shown": p.note} for p in unplaced]),
                hide_index=True,
            )
    with tabs[6]:
        st.write(
            _("Released figures for the selected unit and the units below it, {start} to {end}.").format(
                start=start, end=end
            )
        )
        export = constructs_view[list(RECORD_COLUMNS)]
        st.download_button(
            _("Download CSV"),
            data=frame_to_csv(export),
            file_name=f"wellbeing-{chosen}-{start}-{end}.csv",
            mime="text/csv",
            on_click=_record_download,
            args=(viewer.email, chosen, start, end, len(export)),
            key="org_trends_download",
        )
    with tabs[7]:  # insight: drivers, the priority matrix and every action's measured effect
        from app.components.insight_panel import render_hr_insight

        render_hr_insight(viewer, int(unit_row["id"]), str(unit_row["name"]))


main()
