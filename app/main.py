"""Streamlit entry point: role-based navigation. Pages a role may not use are never registered,
so they cannot be reached by URL either (and the services check roles again)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import ui
from app.settings import SettingsError, get_settings

PAGES = Path(__file__).resolve().parent / "pages"


def _sign_out_page() -> None:
    ui.sign_out()


def run() -> None:
    st.set_page_config(page_title="Wellbeing & Outcomes", page_icon=":material/favorite:", layout="wide")
    try:
        settings = get_settings()
    except SettingsError as error:
        st.error(str(error))
        st.stop()
    ui.settle_server_process()
    ui.start_dashboard_warmer()
    if settings.environment == "demo":
        st.warning(
            "Demo mode: sample organisation and demo sign-in. Do not enter real data.",
            icon=":material/science:",
        )
    viewer = ui.current_viewer()
    if viewer is None:
        if settings.auth_mode == "demo" and ui.signed_in_email():
            ui.sign_out()
        st.navigation([st.Page(PAGES / "sign_in.py", title="Sign in", icon=":material/login:")]).run()
        return

    sections: dict[str, list[st.Page]] = {}
    if viewer.is_staff:
        sections["My pulse"] = [
            st.Page(PAGES / "pulse.py", title="Weekly pulse", icon=":material/favorite:", default=True),
            st.Page(
                PAGES / "what_others_see.py", title="What others can see", icon=":material/visibility:"
            ),
        ]
    if viewer.is_manager:
        sections["My teams"] = [
            st.Page(
                PAGES / "team_dashboard.py",
                title="Team dashboard",
                icon=":material/dashboard:",
                default=not viewer.is_staff,
            ),
            st.Page(PAGES / "objectives.py", title="Objectives", icon=":material/flag:"),
        ]
    if viewer.is_hr:
        sections["Organisation"] = [
            st.Page(
                PAGES / "org_trends.py",
                title="Organisation trends",
                icon=":material/monitoring:",
                default=not (viewer.is_staff or viewer.is_manager),
            ),
            st.Page(PAGES / "strain.py", title="Teams under strain", icon=":material/warning:"),
            st.Page(PAGES / "reminders.py", title="Pulse reminders", icon=":material/notifications:"),
        ]
    if viewer.is_admin:
        sections["Settings"] = [
            st.Page(
                PAGES / "admin.py",
                title="Admin",
                icon=":material/settings:",
                default=not (viewer.is_staff or viewer.is_manager or viewer.is_hr),
            ),
        ]
    sections["Account"] = [st.Page(_sign_out_page, title="Sign out", icon=":material/logout:")]
    with st.sidebar:
        st.caption(f"Signed in as **{ui.escape_markdown(viewer.display_name)}**")
    st.navigation(sections).run()


run()
