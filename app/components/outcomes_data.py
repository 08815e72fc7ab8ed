"""Cached loaders for the Objectives and Team dashboard pages, and the one way to clear them.

Both pages read outcomes, so their ``st.cache_data`` wrappers live together: a write on either page
calls ``clear_outcome_caches()`` and the other page shows the change on its next run. The public
loaders take the viewer (read fresh on every page view) and decide access with the service layer's
rule (``models.access.require_team_access``) before any cached entry is served, so a manager taken
off a team loses it on the next view, cache hit or not. The cached functions behind them take
primitives (the viewer's email, ids, ISO dates) and load the viewer again on a miss, so the
service checks access there too. The wellbeing half comes only from the store of released figures.
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
from models.access import (
    AccessDenied,
    Viewer,
    load_viewer,
    managed_team_ids,
    require_team_access,
    require_teams_access,
)
from models.db import read_session
from models.org import Unit

TTL = "10m"
MAX_ENTRIES = 512
DASHBOARD_CONSTRUCTS = ("wellbeing",)
WEEKS_SHOWN = 12  # the latest released weeks a team dashboard shows
md = ui.escape_markdown  # user text in Markdown (the pages' one helper, see app.ui)


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


def _require_team(viewer: Viewer, team_id: int) -> None:
    """Access decided now, by the service layer's rule, before a cached entry may be served."""
    with read_session(ui.engine()) as session:
        require_team_access(session, viewer, int(team_id))


def managed_teams(viewer: Viewer) -> dict[int, str]:
    """The teams this manager manages now, id -> name, by name (read on every view: this list is
    itself an access decision)."""
    with read_session(ui.engine()) as session:
        ids = managed_team_ids(session, viewer)
        if not ids:
            return {}
        rows = session.exec(
            select(Unit.id, Unit.name).where(col(Unit.id).in_(ids)).order_by(Unit.name)
        ).all()
    return {int(team_id): name for team_id, name in rows}


def load_team_delivery(viewer: Viewer, team_id: int, today: str) -> TeamDelivery:
    _require_team(viewer, team_id)
    return _team_delivery(viewer.email, int(team_id), today)


def load_team_objectives(viewer: Viewer, team_id: int, today: str) -> list[ObjectiveView]:
    _require_team(viewer, team_id)
    return _team_objectives(viewer.email, int(team_id), today)


def load_due(viewer: Viewer, today: str) -> list[KeyResultView]:
    """Key results due an update in the viewer's teams, keyed on the teams they manage now."""
    with read_session(ui.engine()) as session:
        teams = tuple(sorted(managed_team_ids(session, viewer)))
    return _due(viewer.email, teams, today)


def load_actions(viewer: Viewer, team_id: int) -> list[ActionView]:
    _require_team(viewer, team_id)
    return _actions(viewer.email, int(team_id))


def load_wellbeing(viewer: Viewer, team_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The team's released WHO-5 series over the latest released weeks, its work-pattern mix and
    its response rate (all read from the store of frozen releases)."""
    _require_team(viewer, team_id)
    return _wellbeing(viewer.email, int(team_id))


def load_teams_overview(
    viewer: Viewer, team_ids: list[int], today: str
) -> list[tuple[int, TeamDelivery, pd.DataFrame]]:
    """Delivery and the released wellbeing series of several teams (the dashboard's quadrant),
    with access decided once for all of them: every team must be one the viewer manages now."""
    with read_session(ui.engine()) as session:
        require_teams_access(session, viewer, team_ids)
    return [
        (
            team_id,
            _team_delivery(viewer.email, int(team_id), today),
            _wellbeing(viewer.email, int(team_id))[0],
        )
        for team_id in team_ids
    ]


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _team_delivery(email: str, team_id: int, today: str) -> TeamDelivery:
    with read_session(ui.engine()) as session:
        return team_delivery(
            session=session,
            viewer=_viewer(session, email),
            team_id=team_id,
            today=date.fromisoformat(today),
        )


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _team_objectives(email: str, team_id: int, today: str) -> list[ObjectiveView]:
    with read_session(ui.engine()) as session:
        return team_objectives(
            session=session,
            viewer=_viewer(session, email),
            team_id=team_id,
            today=date.fromisoformat(today),
        )


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _due(email: str, teams: tuple[int, ...], today: str) -> list[KeyResultView]:  # noqa: ARG001
    """``teams`` (the ones managed now) only keys the cache: a change of teams is a miss."""
    with read_session(ui.engine()) as session:
        return key_results_due_update(
            session=session, viewer=_viewer(session, email), today=date.fromisoformat(today)
        )


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _actions(email: str, team_id: int) -> list[ActionView]:
    with read_session(ui.engine()) as session:
        return team_actions(session=session, viewer=_viewer(session, email), team_id=team_id)


@st.cache_data(ttl=TTL, max_entries=MAX_ENTRIES, show_spinner=False)
def _wellbeing(email: str, team_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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
    for loader in (_team_delivery, _team_objectives, _due, _actions):
        loader.clear()
