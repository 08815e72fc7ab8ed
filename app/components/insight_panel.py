"""Insight blocks for the pages: drivers with the priority matrix, action effects against
comparison teams, HR's table of every action, and starting an action in one step.

Every figure comes from ``analytics.driver_release`` and ``analytics.action_report``, which check
access and read only released data. Loaders take primitives and are cached; drivers are frozen
with their quarter, so the released periods key the cache.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from analytics.action_effects import Effect
from analytics.action_report import actions_overview, overview_csv, team_action_effects
from analytics.driver_release import (
    DRIVER_LABELS,
    DRIVER_MIN_PEOPLE,
    UnitDrivers,
    priority,
    team_priorities,
    unit_drivers,
)
from analytics.objectives import record_action
from analytics.privacy import released_periods
from analytics.privacy.rules import SYSTEM_VIEWER
from analytics.privacy.views import require_unit_view
from app import ui
from app.charts.insight import driver_chart, effects_chart, priority_chart
from app.charts.insight_text import actions_table, driver_text, effects_text, priority_text
from app.components.chart_text import show_chart
from app.i18n import _
from models.access import AccessDenied, Viewer, load_viewer
from models.audit import record
from models.db import read_session, write_session

TTL = "10m"
DRIVERS_TTL = 86_400  # seconds: a released quarter is frozen; released quarters key the cache
PAGE_RESAMPLES = 1000
METHOD_NOTE = (
    "Importance: each work condition's share of the differences in wellbeing (WHO-5) that the "
    "conditions together explain, split fairly between conditions that go together (general "
    "dominance), with a 95% interval from resampling whole teams. It shows what goes with "
    "wellbeing here, not proof of cause. Computed from the latest released quarter, only for "
    f"groups of at least {DRIVER_MIN_PEOPLE} people."
)


def _viewer(session, email: str) -> Viewer:  # type: ignore[no-untyped-def]
    viewer = load_viewer(session, email)
    if viewer is None:
        raise AccessDenied("Please sign in again.")
    return viewer


def _quarters() -> tuple[str, ...]:
    with read_session(ui.engine()) as session:
        return tuple(released_periods(session, kind="quarter"))


@st.cache_data(ttl=DRIVERS_TTL, max_entries=256, show_spinner="Working out what matters most ...")
def _shared_unit_drivers(unit_id: int, quarters: tuple[str, ...]) -> UnitDrivers:
    """One unit's drivers, computed once for every viewer: callers check access first."""
    del quarters  # keys the cache: a new release is a new entry
    with read_session(ui.engine()) as session:
        return unit_drivers(
            session=session, viewer=SYSTEM_VIEWER, unit_id=unit_id, resamples=PAGE_RESAMPLES
        )


def load_unit_drivers(email: str, unit_id: int, quarters: tuple[str, ...]) -> UnitDrivers:
    with read_session(ui.engine()) as session:
        require_unit_view(session, _viewer(session, email), unit_id)
    return _shared_unit_drivers(unit_id, quarters)


@st.cache_data(ttl=DRIVERS_TTL, max_entries=256, show_spinner="Working out what matters most ...")
def load_team_priorities(email: str, team_id: int, quarters: tuple[str, ...]) -> UnitDrivers:
    with read_session(ui.engine()) as session:
        viewer = _viewer(session, email)
        return team_priorities(
            session=session,
            viewer=viewer,
            team_id=team_id,
            drivers_of=lambda unit_id: _shared_unit_drivers(unit_id, quarters),
        )


@st.cache_data(ttl=TTL, max_entries=256, show_spinner=False)
def load_team_effects(email: str, team_id: int, stamp: str) -> dict[int, Effect]:
    del stamp  # keys the cache: new actions or releases
    with read_session(ui.engine()) as session:
        viewer = _viewer(session, email)
        return team_action_effects(session=session, viewer=viewer, team_id=team_id)


@st.cache_data(ttl=TTL, max_entries=16, show_spinner=False)
def load_actions_overview(email: str, stamp: str) -> pd.DataFrame:
    del stamp
    with read_session(ui.engine()) as session:
        viewer = _viewer(session, email)
        return actions_overview(session=session, viewer=viewer)


def _stamp() -> str:
    """Changes when a period is released or (within the cache TTL) on a new day."""
    with read_session(ui.engine()) as session:
        months = released_periods(session, kind="month")
    return f"{months[-1] if months else ''}:{date.today().isoformat()}"


def render_drivers(drivers: UnitDrivers, *, scores_of: str) -> list[dict]:
    """The ranked chart and the priority matrix; returns the priority-ordered records."""
    if not drivers.released:
        st.info(
            _("No driver analysis for {unit}: {reason}.").format(
                unit=drivers.unit_name, reason=drivers.reason
            ),
            icon=":material/info:",
        )
        return []
    records = drivers.records()
    st.caption(f"{drivers.unit_name}, {drivers.period}, {drivers.people} people. {METHOD_NOTE}")
    left, right = st.columns(2, gap="large")
    with left:
        show_chart(driver_chart(records), driver_text(records))
    with right:
        show_chart(
            priority_chart(records, score_title=_("{unit} score (1-5)").format(unit=scores_of)),
            priority_text(records),
        )
    ranked = priority(records)
    if ranked:
        st.markdown(
            "**Work on first:** "
            + ", ".join(ui.escape_markdown(r["label"]) for r in ranked[:3])
            + " (high importance, low score)."
        )
    for driver, why in drivers.withheld.items():
        st.caption(f"{DRIVER_LABELS.get(driver, driver)} is not shown: {why}.")
    return ranked


def render_hr_insight(viewer: Viewer, unit_id: int, unit_name: str) -> None:
    """HR's tab: drivers for the chosen unit (or why not) and every action with its effect.

    Streamlit runs every tab's code on each rerun, so the work waits until HR asks for it: the
    page's first render stays as fast as before."""
    if not st.toggle(_("Show drivers and actions"), key="insight_show"):
        st.caption(
            _(
                "Which work conditions go with wellbeing in the chosen unit, and the measured effect of "
                "every action recorded by managers."
            )
        )
        return
    st.subheader(_("What drives wellbeing: {unit}").format(unit=unit_name))
    try:
        drivers = load_unit_drivers(viewer.email, int(unit_id), _quarters())
        render_drivers(drivers, scores_of=unit_name)
        st.subheader(_("Actions and their measured effect"))
        overview = load_actions_overview(viewer.email, _stamp())
    except AccessDenied as error:
        st.error(str(error))
        return
    if overview.empty:
        st.write(_("No actions recorded yet."))
        return
    show_chart(effects_chart(overview), effects_text(overview))
    st.caption(
        _(
            "Each team's change in wellbeing from the released months before its action to those "
            "after, minus the change of teams that took no action over the same months "
            "(difference-in-differences). A team of eight will usually read 'no clear change'."
        )
    )
    shown = overview.drop(columns=["action_id"])
    st.dataframe(actions_table(shown), hide_index=True)
    st.download_button(
        _("Download actions (CSV)"),
        data=overview_csv(shown),
        file_name="actions-and-effects.csv",
        mime="text/csv",
        on_click=_record_download,
        args=(viewer.email, len(shown)),
        key="insight_actions_download",
    )


def _record_download(email: str, rows: int) -> None:
    with write_session(ui.engine()) as session:
        record(session, actor=email, action="download.actions", target="actions", detail={"rows": rows})


def effect_text(email: str, team_id: int, action_id: int) -> str:
    """The action's effect on wellbeing in plain words (or why it is not measurable yet)."""
    try:
        effects = load_team_effects(email, int(team_id), _stamp())
    except AccessDenied as error:
        return str(error)
    effect = effects.get(int(action_id))
    return effect.describe() if effect else "Effect: not yet measurable."


def effect_verdict(email: str, team_id: int, action_id: int) -> str:
    """A short result for a table cell: improved / no clear change / worse / not yet measurable."""
    try:
        effect = load_team_effects(email, int(team_id), _stamp()).get(int(action_id))
    except AccessDenied:
        return ""
    if effect is None or effect.estimate is None:
        return "not yet measurable"
    return (
        f"{effect.verdict} ({effect.estimate:+.0f} points, 95% {effect.low:+.0f} to {effect.high:+.0f}, "
        f"against {effect.comparison_teams} teams)"
    )


def render_start_action(viewer: Viewer, team_id: int, *, flagged: bool, on_saved) -> None:  # type: ignore[no-untyped-def]
    """One-step actions: from the strain flag, or from a driver that matters and scores low here."""
    try:
        found = load_team_priorities(viewer.email, int(team_id), _quarters())
    except AccessDenied:
        found = None
    choices: list[tuple[str, str]] = []
    if flagged:
        choices.append(("strain flag", "Respond to the strain flag"))
    if found is not None and found.released:
        for row in priority(found.records())[:2]:
            choices.append((f"driver: {row['label']}", f"Work on {row['label'].lower()}"))
        st.caption(
            f"What matters most for wellbeing in {found.unit_name} ({found.period}), beside this "
            "team's released scores: "
            + "; ".join(
                f"{r['label']} {r['score']:.1f}" for r in priority(found.records())[:3] if r.get("score")
            )
        )
    if not choices:
        return
    columns = st.columns(len(choices))
    for column, (trigger, title) in zip(columns, choices, strict=True):
        with column:
            if st.button(f"Start: {title}", key=f"start_action_{team_id}_{trigger}"):
                on_saved(
                    lambda s, t=trigger, n=title: record_action(
                        session=s,
                        viewer=viewer,
                        team_id=team_id,
                        title=n,
                        trigger=t,
                        status_name="planned",
                        taken_on=date.today(),
                    ),
                    "Action started: add the details when you know them.",
                )
