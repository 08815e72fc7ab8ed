"""Streamlit plumbing shared by the pages: the engine, the current viewer, audit of views.

Pages call services in ``analytics``/``surveys`` with the viewer; they never compute aggregates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import identity
from app.i18n import _
from app.settings import Settings, get_settings
from models.access import Viewer
from models.db import make_engine
from models.faults import TRY_AGAIN, is_transient

if TYPE_CHECKING:
    from app.warmup import DashboardWarmer

DEMO_EMAIL_KEY = identity.DEMO_EMAIL_KEY
# Every ASCII punctuation character that means something to Streamlit's Markdown (CommonMark, GFM
# tables and strikethrough, LaTeX, :icon: and :color[...] directives) or to HTML; CommonMark lets
# a backslash make any of them literal.
_MARKDOWN_SPECIALS = re.compile(r"""([\\`*_{}\[\]()#+\-.!|<>~$:=&"'^%@/])""")


def escape_markdown(text: object) -> str:
    """A user's text (a name, a title, a note, an error quoting one) shown exactly as typed wherever
    Streamlit renders Markdown: ``st.markdown``, captions, alerts, headers and widget, tab,
    expander and metric labels. The one helper every page uses for user text. Not for plain-text
    places (select options, ``st.text``, dataframes, chart data), which would show the backslashes."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text))


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


@st.cache_resource(show_spinner=False)
def _warmer_for(url: str) -> DashboardWarmer:
    from app.warmup import DashboardWarmer  # imports the gate and pandas: not on the sign-in page

    settings = get_settings()
    warmer = DashboardWarmer(
        _engine_for(url), settings.privacy_rules(), schedule=settings.release_schedule()
    )
    warmer.start()
    return warmer


@st.cache_resource(show_spinner=False)
def _startup_objects_frozen() -> bool:
    from app.warmup import freeze_startup_objects

    freeze_startup_objects()
    return True


def settle_server_process() -> None:
    """Once per server process, at the first signed-in page view (``app/main.py``):
    ``app.warmup.freeze_startup_objects``."""
    _startup_objects_frozen()


def start_dashboard_warmer() -> None:
    """Start the background dashboard warmer once per server process (``app/warmup.py``), unless
    ``WELLBEING_WARM_DASHBOARDS=false``. Called at the first signed-in page view, not on the
    sign-in page: its imports (the gate, pandas) and its first round would otherwise compete with
    the first visitor's sign-in page after a start (measured by ``wellbeing bench --sign-in-only``)."""
    if get_settings().warm_dashboards:
        _warmer_for(get_settings().database_url)


def run_page(page: Callable[[], None]) -> None:
    """Run a page's ``main``; a dropped connection or a locked database shows a polite "try again
    in a moment" instead of an error (``models.faults.is_transient``); anything else is raised."""
    try:
        page()
    except Exception as error:
        if not is_transient(error):
            raise
        st.warning(_(TRY_AGAIN), icon=":material/schedule:")


def settings() -> Settings:
    return get_settings()


def engine() -> Engine:
    """The process-wide engine for the configured database (keyed by URL)."""
    return _engine_for(get_settings().database_url)


def sign_in_state() -> identity.SignInState:
    """Who is signed in and with which roles now, or why nobody is (``app/identity.py``)."""
    return identity.current(engine())


def current_viewer() -> Viewer | None:
    """The signed-in viewer with roles from the database, or None."""
    return sign_in_state().viewer


def sign_out() -> None:
    identity.sign_out(engine())


def through_navigation() -> None:
    """Make sure this page runs under the entry point's navigation (``app/main.py``).

    Streamlit runs a file of a ``pages/`` folder next to the entry point directly, in its older
    multipage mode, until the entry point has called ``st.navigation`` once in the server process.
    So the first visits after a start to ``/team_dashboard`` and the like ran that page alone,
    without the sign-in and role navigation. Here that mode is switched off and the run starts
    again through the entry point (Streamlit 1.67 internals; tests/e2e/test_oidc_access.py).
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    pages = ctx.pages_manager
    if any(info.get("script_path") == pages.main_script_path for info in pages.get_pages().values()):
        PagesManager.uses_pages_directory = False
        st.rerun()


def require_viewer() -> Viewer:
    """The current viewer, or stop the page (navigation should have prevented this)."""
    through_navigation()
    viewer = current_viewer()
    if viewer is None:
        st.error(_("Please sign in."))
        st.stop()
    return viewer


def pick_team(teams: dict[int, str], *, key: str) -> int:
    """The team picker of the manager pages: a switcher for several teams, the name for one.

    The browser sends the chosen value, so a forged one (or a team taken away since the page was
    drawn) can arrive: it is refused plainly and the page stops before reading anything for it.
    """
    if len(teams) == 1:
        team_id = next(iter(teams))
        st.text(_("Team: {team}").format(team=teams[team_id]))  # plain text: names are data
        return team_id
    label = partial(_team_label, teams)  # picklable: session state is checked for that
    chosen = st.selectbox(_("Team"), list(teams), format_func=label, key=key)
    if chosen not in teams:
        st.error(
            _("That is not one of your teams. Choose a team from the list."), icon=":material/block:"
        )
        st.stop()
    return int(chosen)


def _team_label(teams: dict[int, str], team_id: object) -> str:
    return teams.get(team_id, str(team_id))  # type: ignore[call-overload]
