"""The strain flag panel for one team, on the manager's team dashboard: whether the team is flagged
as under strain, why (the features that put it there, with values), and the sustained-drop alert.

Access is checked by ``analytics.strain_features.team_strain_status`` (the manager of the team, or
HR) on a cache miss, and by the same rule before any cached status is served. Only this team's
verdict leaves the service: other teams appear only as "the typical team".
"""

from __future__ import annotations

import streamlit as st

from analytics.strain_features import DEFAULT_WINDOW_WEEKS, TeamStrainStatus, team_strain_status
from app import ui
from app.i18n import _
from models.access import AccessDenied, Viewer, load_viewer, require_team_access
from models.db import read_session

TTL = "10m"
MAX_ENTRIES = 256


def load_team_strain(viewer: Viewer, team_id: int, window_weeks: int) -> TeamStrainStatus:
    """The team's strain status; access decided now (the service's rule) before the cache serves."""
    with read_session(ui.engine()) as session:
        require_team_access(session, viewer, int(team_id))
    return _team_strain(viewer.email, int(team_id), window_weeks)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner="Checking for signs of strain ...")
def _team_strain(email: str, team_id: int, window_weeks: int) -> TeamStrainStatus:
    with read_session(ui.engine()) as session:
        viewer = load_viewer(session, email)
        if viewer is None:
            raise AccessDenied("Please sign in again.")
        return team_strain_status(
            session=session,
            viewer=viewer,
            rules=ui.settings().privacy_rules(),
            team_id=team_id,
            window_weeks=window_weeks,
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
