"""Teams under strain (HR): every flagged team with its reasons, the sustained-drop alerts beside
them, the cluster profiles, and a drill-down into one team's released weekly wellbeing.

The verdicts come from ``analytics.strain_features.strain_report`` (HR only, checked there); the
drill-down trend comes from the released store (``analytics.privacy.team_series``). Cached
loaders take primitives (the viewer's email) and load the viewer again, so the service checks
access on every cache miss.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.aggregates import weeks_between
from analytics.privacy import team_series
from analytics.strain import NOT_ASSESSED
from analytics.strain_features import DEFAULT_WINDOW_WEEKS, StrainReport, strain_report
from app import ui
from app.charts.strain import cluster_overview_chart, team_scores_chart
from app.charts.strain_text import cluster_overview_text, team_scores_text
from app.charts.team import wellbeing_chart
from app.charts.team_text import wellbeing_text
from app.components.chart_text import show_chart
from app.i18n import _
from models.access import AccessDenied, Viewer, load_viewer
from models.audit import record
from models.db import read_session, write_session

TTL = "10m"
MAX_ENTRIES = 64


def _viewer(session, email: str) -> Viewer:  # type: ignore[no-untyped-def]
    viewer = load_viewer(session, email)
    if viewer is None:
        raise AccessDenied("Please sign in again.")
    return viewer


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner="Looking for teams under strain ...")
def load_report(email: str, window_weeks: int) -> StrainReport | None:
    with read_session(ui.engine()) as session:
        return strain_report(
            session=session,
            viewer=_viewer(session, email),
            rules=ui.settings().privacy_rules(),
            window_weeks=window_weeks,
        )


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def load_trend(email: str, team_id: int, start_week: str, end_week: str) -> pd.DataFrame:
    with read_session(ui.engine()) as session:
        return team_series(
            session=session,
            viewer=_viewer(session, email),
            team_id=team_id,
            weeks=weeks_between(start_week, end_week),
            constructs=["wellbeing"],
            pooling_period=ui.settings().pooling_period,
        )


def _audit_view(viewer: Viewer, target: str, detail: dict[str, object]) -> None:
    """Record an HR view once per session and target (every view of an aggregate is recorded)."""
    key = f"strain_viewed::{target}"
    if st.session_state.get(key):
        return
    with write_session(ui.engine()) as session:
        record(session, actor=viewer.email, action="view strain", target=target, detail=detail)
    st.session_state[key] = True


def _flag_card(row: pd.Series, report: StrainReport) -> None:
    strain = report.result.for_team(int(row["team_id"]))
    with st.container(border=True, key=f"strain_flag_{int(row['team_id'])}"):
        st.markdown(
            f"**{ui.escape_markdown(str(row['name']))}** · {ui.escape_markdown(str(row['team']))}"
        )
        st.caption(
            f"{ui.escape_markdown(str(row['parent']))} · profile: {row['cluster']} · "
            f"probability of strain {(strain.probability or 0.0) if strain else 0.0:.2f} "
            f"(flagged at {report.result.threshold:.2f} or more)"
        )
        if row["alert"]:
            since = _("Sustained drop in wellbeing signalled since {week}").format(
                week=row["alert_since"]
            )
            st.markdown(f":red[{since}]")
        if strain is not None:
            st.markdown("\n".join(f"- {ui.escape_markdown(reason.text)}" for reason in strain.reasons))


def main() -> None:
    st.title(_("Teams under strain"))
    viewer = ui.require_viewer()
    if not viewer.is_hr:
        st.error(_("This page is for HR."))
        st.stop()
    window = int(
        st.number_input(
            _("Trailing window (weeks)"), min_value=4, max_value=13, value=DEFAULT_WINDOW_WEEKS, step=1
        )
    )
    try:
        report = load_report(viewer.email, window)
    except AccessDenied as error:
        st.error(ui.escape_markdown(error))
        st.stop()
    if report is None:
        st.info(_("There are no pulse answers yet."))
        return
    _audit_view(viewer, f"strain:{report.end_week}:{window}", {"window_weeks": window})
    table = report.table()
    flagged = table[table["flagged"]]
    alerts = table[table["alert"]]
    result = report.result
    st.caption(
        f"Window {report.start_week} to {report.end_week}. A team is assessed when its own answers "
        "pass the privacy threshold (weekly or pooled) in at least half of the weeks, one of them "
        "among the latest four; the others are listed as not assessed (they count only within "
        "their parent unit). A team is flagged when a mixture of a "
        "steady group and strain profiles gives it a high probability of strain; on councils with "
        "nothing planted about 2% of teams are flagged (docs/STRAIN.md)."
    )
    counts = st.columns(3)
    counts[0].metric(_("Teams assessed"), int((table["cluster"] != NOT_ASSESSED).sum()))
    counts[1].metric(_("Flagged as under strain"), len(flagged))
    counts[2].metric(_("Sustained-drop alerts"), len(alerts))
    for note in result.notes:
        st.caption(_("Note: {note}").format(note=note))

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader(_("Flagged teams"))
        if flagged.empty:
            st.success(_("No team is flagged as under strain in this window."))
        for _position, row in flagged.iterrows():
            _flag_card(row, report)
    with right:
        st.subheader(_("Sustained-drop alerts"))
        rules = report.alert_rules
        lag1 = report.alerts["lag1"].iloc[0] if not report.alerts.empty else rules.lag1_correlation
        st.caption(
            f"EWMA (lambda {rules.lam}) on each team's weekly wellbeing relative to all teams, after a "
            f"{rules.baseline_weeks}-week baseline; limits calibrated by simulation to a "
            f"{rules.false_alarm_rate:.0%} chance of a false alarm per team over the monitored weeks, "
            f"modelling week-to-week autocorrelation (WHO-5's two-week recall, team drift) as AR(1) "
            f"with lag-1 correlation {lag1}."
        )
        if alerts.empty:
            st.success(_("No sustained drop signalled."))
        else:
            shown = alerts[["team", "name", "alert_since", "drop", "flagged"]].rename(
                columns={
                    "team": "Team",
                    "name": "Name",
                    "alert_since": "Since",
                    "drop": "Drop (points)",
                    "flagged": "Also flagged",
                }
            )
            st.dataframe(shown, hide_index=True, width="stretch")

    st.subheader(_("Profiles"))
    if result.clusters:
        st.caption(
            f"Mixture of a steady group and {(result.k or 1) - 1} strain components (one per "
            f"construct and one general); fitted share of teams under strain "
            f"{result.strain_share or 0:.0%}."
        )
        show_chart(
            cluster_overview_chart(result.clusters, result.labels),
            cluster_overview_text(result.clusters, result.labels),
        )
        show_chart(team_scores_chart(table, None), team_scores_text(table))
    with st.expander(_("All assessed teams")):
        st.dataframe(
            table.drop(columns=["team_id"]).rename(columns={"alert_since": "alert since"}),
            hide_index=True,
            width="stretch",
        )

    st.subheader(_("Drill down"))
    options = table.sort_values(["flagged", "score"], ascending=[False, False])
    labels = {int(r.team_id): f"{r.name} ({r.team})" for r in options.itertuples()}
    if not labels:
        return
    team_id = st.selectbox(_("Team"), list(labels), format_func=labels.get, key="strain_drill_team")
    trend = load_trend(viewer.email, int(team_id), report.alerts_start_week, report.end_week)
    show_chart(
        wellbeing_chart(
            trend, title=_("Released weekly wellbeing: {team}").format(team=labels[team_id])
        ),
        wellbeing_text(trend),
    )
    st.caption(
        _("Weekly figures as the privacy gate releases them: pooled or rolled up when a week is small.")
    )


main()
