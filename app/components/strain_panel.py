"""The strain flag panel for one team, on the manager's team dashboard: whether the team is flagged
as under strain, why (the features that put it there, with values), and the sustained-drop alert.

A team's verdict is relative to every assessed team, so it comes from the organisation-wide
report (``analytics.strain_features.compute_strain_report``). That report is computed once per
window and latest released week and shared by every manager (over a thousand teams it takes
over a second; kept per manager, each one's first visit paid it). Access is checked by the
service (``analytics.strain_features.team_status_in``: the manager of the team, or HR) before
anything is served, and only this team's verdict leaves: other teams appear only as "the
typical team".
"""

from __future__ import annotations

import streamlit as st

from analytics.strain_features import (
    DEFAULT_WINDOW_WEEKS,
    StrainReport,
    TeamStrainStatus,
    compute_strain_report,
    team_status_in,
)
from analytics.strain_released import latest_week
from app import ui
from app.i18n import _
from models.access import AccessDenied, Viewer
from models.db import read_session

TTL = "10m"
MAX_REPORTS = 4  # one per window and latest released week: a new release starts a new one


def load_team_strain(viewer: Viewer, team_id: int, window_weeks: int) -> TeamStrainStatus:
    """The team's strain status from the shared report, access decided now by the service
    (``team_status_in``) before anything is served."""
    with read_session(ui.engine()) as session:
        return team_status_in(
            lambda: _organisation_report(window_weeks, latest_week(session)),
            session=session,
            viewer=viewer,
            team_id=int(team_id),
        )


# A resource, not data: one shared object, read only, instead of a copy unpickled on every visit
# (25 ms for a thousand teams' report).
@st.cache_resource(ttl=TTL, max_entries=MAX_REPORTS, show_spinner="Checking for signs of strain ...")
def _organisation_report(window_weeks: int, latest: str | None) -> StrainReport | None:
    """Every assessed team's verdict over the window ending at ``latest`` (the cache key: a new
    release means a new report). Server-side only: callers check access and pass on one team,
    and nothing changes the object."""
    del latest  # the key only: the report reads the latest released week itself
    with read_session(ui.engine()) as session:
        return compute_strain_report(
            session=session, rules=ui.settings().privacy_rules(), window_weeks=window_weeks
        )


def render_team_strain(viewer: Viewer, team_id: int) -> None:
    """Show whether the team is flagged as under strain, and why."""
    try:
        status = load_team_strain(viewer, int(team_id), DEFAULT_WINDOW_WEEKS)
    except AccessDenied as error:
        st.error(ui.escape_markdown(error))
        return
    window = f"{status.start_week} to {status.end_week}" if status.start_week else ""
    record = status.record
    if not status.assessed or record is None:
        st.info(status.message, icon=":material/info:")
        return
    if record.flagged:
        st.warning(f"Flagged as under strain ({window}).", icon=":material/warning:")
        st.markdown(_("**Why:**"))
        st.markdown("\n".join(f"- {ui.escape_markdown(reason.text)}" for reason in record.reasons))
    else:
        st.success(
            f"Not flagged as under strain ({window}); profile: {record.cluster}.",
            icon=":material/check:",
        )
        if record.reasons:
            st.caption(_("Where the team is weaker than the typical team:"))
            st.markdown("\n".join(f"- {ui.escape_markdown(reason.text)}" for reason in record.reasons))
    alert = status.alert or {}
    if alert.get("alarm"):
        st.markdown(
            f":red[Sustained drop in wellbeing signalled since {alert.get('first_alarm_week')}.]"
        )
    elif alert.get("weeks_monitored"):
        st.caption(_("No sustained drop in wellbeing signalled."))
    st.caption(
        "Compared with all assessed teams over the last "
        f"{DEFAULT_WINDOW_WEEKS} released weeks and with the team's own previous weeks; a flag needs "
        "strong evidence that the team belongs to a strain profile rather than the steady majority. "
        "Record an action below if you respond to it."
    )
