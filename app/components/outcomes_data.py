"""Cached loaders for the Objectives and Team dashboard pages, and the one way to clear them.

Both pages read outcomes, so their ``st.cache_data`` wrappers live together: a write on either page
calls ``clear_outcome_caches()`` and the other page shows the change on its next run. Wrappers take
primitives (the viewer's email, ids, ISO dates) and load the viewer again inside, so access is
checked by the service on every cache miss and a cached entry is only ever returned to the same
email. The wellbeing half comes only from the privacy gate.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import col, select

from analytics.objectives import (
    ActionView,
    KeyResultView,
    ObjectiveView,
    TeamDelivery,
    key_results_due_update,
    team_actions,
    team_delivery,
    team_objectives,
)
from analytics.privacy import BASIS_TEAM
from analytics.privacy.views import latest_released_weeks, team_figures
from app import ui
from app.charts.team import released_rows
from models.access import AccessDenied, Viewer, load_viewer, managed_team_ids
from models.db import read_session
from models.org import Unit

TTL = "10m"
MAX_ENTRIES = 512
DASHBOARD_CONSTRUCTS = ("wellbeing",)
WEEKS_SHOWN = 12  # the latest released weeks a team dashboard shows
MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~:$=&\"'")


def md(text: str) -> str:
    """User text made safe for st.markdown: every markdown/directive character escaped."""
    return "".join(f"\\{char}" if char in MARKDOWN_SPECIALS else char for char in str(text))


def wellbeing_note(series: pd.DataFrame, min_group_size: int) -> str | None:
    """What the reader must know about the basis of the figures, or None when all are the team's own."""
    if series.empty:
        return "No wellbeing figures exist for this period."
    released = released_rows(series)
    weeks = len(series)
    if released.empty:
        return (
            f"No wellbeing figure is released for this team: fewer than {min_group_size} people lie "
            "behind every week, even pooled into a month or quarter or rolled up."
        )
    other = released[released["basis"] != BASIS_TEAM]
    suppressed = weeks - len(released)
    parts = []
    if len(other) == len(released):
        bases = ", ".join(sorted(set(other["basis"])))
        parts.append(
            f"This team is small: no weekly figure for the team alone is released. The figures shown "
            f"are {bases}, so that at least {min_group_size} people lie behind each."
        )
    elif not other.empty:
        bases = ", ".join(sorted(set(other["basis"])))
        parts.append(
            f"In {len(other)} of {weeks} weeks fewer than {min_group_size} people answered: those weeks "
            f"are {bases}."
        )
    if suppressed:
        parts.append(f"{suppressed} week(s) are not shown at all (too few people).")
    return " ".join(parts) or None


def _viewer(session, email: str) -> Viewer:  # type: ignore[no-untyped-def]
    viewer = load_viewer(session, email)
    if viewer is None:
        raise AccessDenied("Please sign in again.")
    return viewer


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def managed_teams(email: str) -> dict[int, str]:
    """The teams this manager manages, id -> name, by name."""
    with read_session(ui.engine()) as session:
        ids = managed_team_ids(session, _viewer(session, email))
        if not ids:
            return {}
        rows = session.exec(
            select(Unit.id, Unit.name).where(col(Unit.id).in_(ids)).order_by(Unit.name)
        ).all()
    return {int(team_id): name for team_id, name in rows}


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def load_team_delivery(email: str, team_id: int, today: str) -> TeamDelivery:
    with read_session(ui.engine()) as session:
        return team_delivery(
            session=session,
            viewer=_viewer(session, email),
            team_id=team_id,
            today=date.fromisoformat(today),
        )


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def load_team_objectives(email: str, team_id: int, today: str) -> list[ObjectiveView]:
    with read_session(ui.engine()) as session:
        return team_objectives(
            session=session,
            viewer=_viewer(session, email),
            team_id=team_id,
            today=date.fromisoformat(today),
        )


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def load_due(email: str, today: str) -> list[KeyResultView]:
    with read_session(ui.engine()) as session:
        return key_results_due_update(
            session=session, viewer=_viewer(session, email), today=date.fromisoformat(today)
        )


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def load_actions(email: str, team_id: int) -> list[ActionView]:
    with read_session(ui.engine()) as session:
        return team_actions(session=session, viewer=_viewer(session, email), team_id=team_id)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def load_wellbeing(email: str, team_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The team's released WHO-5 series over the latest released weeks, its work-pattern mix and
    its response rate (all read from the store of frozen releases)."""
    with read_session(ui.engine()) as session:
        viewer = _viewer(session, email)
        weeks = latest_released_weeks(session, unit_id=team_id, count=WEEKS_SHOWN)
        figures = team_figures(
            session=session,
            viewer=viewer,
            team_id=team_id,
            weeks=weeks,
            constructs=DASHBOARD_CONSTRUCTS,
            pooling_period=ui.settings().pooling_period,
        )
    return figures.series, figures.mix, figures.rates


def clear_outcome_caches() -> None:
    """After any outcome write: objectives, key results, check-ins and actions read fresh."""
    for loader in (load_team_delivery, load_team_objectives, load_due, load_actions):
        loader.clear()
