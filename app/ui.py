"""Streamlit plumbing shared by the pages: the engine, the current viewer, audit of views.

Pages call services in ``analytics``/``surveys`` with the viewer; they never compute aggregates.
"""

from __future__ import annotations

import re

import streamlit as st
from sqlalchemy.engine import Engine

from app.settings import Settings, get_settings
from app.warmup import DashboardWarmer, freeze_startup_objects
from models.access import Viewer, load_viewer
from models.db import make_engine, read_session

DEMO_EMAIL_KEY = "demo_email"
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """User text made inert inside Markdown (no emphasis, links, HTML, LaTeX or :icons:)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


@st.cache_resource(show_spinner=False)
def _warmer_for(url: str) -> DashboardWarmer:
    settings = get_settings()
    warmer = DashboardWarmer(
        _engine_for(url), settings.privacy_rules(), schedule=settings.release_schedule()
    )
    warmer.start()
    return warmer


@st.cache_resource(show_spinner=False)
def _startup_objects_frozen() -> bool:
    freeze_startup_objects()
    return True


def settle_server_process() -> None:
    """Once per server process, at the first page view: ``app.warmup.freeze_startup_objects``."""
    _startup_objects_frozen()


def start_dashboard_warmer() -> None:
    """Start the background dashboard warmer once per server process (``app/warmup.py``), unless
    ``WELLBEING_WARM_DASHBOARDS=false``."""
    if get_settings().warm_dashboards:
        _warmer_for(get_settings().database_url)


def settings() -> Settings:
    return get_settings()


def engine() -> Engine:
    """The process-wide engine for the configured database (keyed by URL)."""
    return _engine_for(get_settings().database_url)


def signed_in_email() -> str | None:
    """The email of whoever is signed in, through the one identity adapter (demo or OIDC)."""
    if get_settings().auth_mode == "demo":
        return st.session_state.get(DEMO_EMAIL_KEY)
    if not st.user.get("is_logged_in", False):
        return None
    # Microsoft Entra ID often leaves out ``email`` for accounts without a mailbox; its
    # ``preferred_username`` is then the user principal name, which councils set to the email.
    for claim in ("email", "preferred_username"):
        value = st.user.get(claim)
        if value and "@" in str(value):
            return str(value).strip().lower()
    return None


def current_viewer() -> Viewer | None:
    """The signed-in viewer with roles from the database, or None."""
    email = signed_in_email()
    if not email:
        return None
    with read_session(engine()) as session:
        return load_viewer(session, email)


def sign_out() -> None:
    if get_settings().auth_mode == "demo":
        st.session_state.pop(DEMO_EMAIL_KEY, None)
        st.rerun()
    else:
        st.logout()


def require_viewer() -> Viewer:
    """The current viewer, or stop the page (navigation should have prevented this)."""
    viewer = current_viewer()
    if viewer is None:
        st.error("Please sign in.")
        st.stop()
    return viewer
