"""Team dashboard: a manager's team, outcome delivery beside wellbeing, and what is being done.

Delivery comes from ``analytics.objectives`` (scored by the rules in ``analytics.outcomes``); every
wellbeing figure comes from the privacy gate, and this page only draws what the gate released (a
small team's figures are pooled or rolled up, and the page says so).
"""

from __future__ import annotations

from datetime import date
from functools import partial

import pandas as pd
import streamlit as st
from sqlalchemy.exc import IntegrityError

from analytics.objectives import ACTION_STATUSES, TeamDelivery, record_action, set_action_status
from analytics.outcomes import (
    QUADRANT_RULE,
    STATUS_RULE,
    OutcomeError,
    QuadrantPoint,
    action_effect,
    quadrant_point,
)
from analytics.privacy import BASIS_TEAM
from analytics.strain_features import DEFAULT_WINDOW_WEEKS
from app import ui
from app.charts.team import (
    delivery_chart,
    pattern_mix_chart,
    quadrant_chart,
    released_rows,
    response_rate_chart,
    wellbeing_chart,
)
from app.charts.team_text import (
    delivery_text,
    pattern_mix_text,
    quadrant_text,
    response_rate_text,
    wellbeing_text,
)
from app.components.chart_text import show_chart
from app.components.insight_panel import effect_text, render_start_action
from app.components.outcomes_data import (
    clear_outcome_caches,
    load_actions,
    load_team_delivery,
    load_teams_overview,
    load_wellbeing,
    managed_teams,
    md,
    wellbeing_note,
)
from app.components.strain_panel import load_team_strain, render_team_strain
from app.i18n import N_, _, format_decimal, label_from
from models.access import AccessDenied, Viewer
from models.audit import record
from models.base import iso_week
from models.db import write_session

FLASH = "team_dashboard_flash"
VIEWS_KEY = "team_dashboard_views_recorded"
QUADRANT_AT_ONCE = 4  # more teams than this: the quadrant waits for the manager to ask for it
ACTION_LABELS = {"planned": N_("Planned"), "in_progress": N_("In progress"), "done": N_("Done")}


def _delivery_section(delivery: TeamDelivery) -> None:
    st.subheader(_("Outcome delivery"))
    live = [o for o in delivery.objectives if not o.closed]
    if not live:
        st.info(_("No open objectives. Create one on the Objectives page."))
        return
    counts = {
        name: sum(1 for o in live if o.status.name == name)
        for name in ("on_track", "at_risk", "off_track")
    }
    first, second, third = st.columns(3)
    first.metric(_("On track"), counts["on_track"])
    second.metric(_("At risk"), counts["at_risk"])
    third.metric(_("Off track"), counts["off_track"])
    if not delivery.history.empty:
        show_chart(delivery_chart(delivery.history), delivery_text(delivery.history))
    for objective in live:
        with st.container(border=True, key=f"objective_{objective.id}"):
            progress = (
                "no key results yet" if objective.progress is None else f"{objective.progress:.0%}"
            )
            st.markdown(
                f"**{md(objective.title)}**  \n{objective.status.label} · progress {progress} · "
                f"expected {objective.expected:.0%} · ends {objective.ends_on:%d %b %Y}"
            )
            st.caption(md(objective.status.explanation))
    with st.expander(_("How status is worked out")):
        st.markdown(STATUS_RULE)


def _wellbeing_section(viewer: Viewer, team_id: int, start_week: str, end_week: str) -> None:
    st.subheader(_("Wellbeing"))
    rules = ui.settings().privacy_rules()
    series, mix, rates = load_wellbeing(viewer, team_id)
    st.caption(
        _(
            "WHO-5 (0-100, higher is better), released weeks {start} to {end}: a figure "
            "needs at least {k} people behind it, and a week is shown only once it "
            "has closed and been released."
        ).format(start=start_week, end=end_week, k=rules.min_group_size)
    )
    note = wellbeing_note(series, rules.min_group_size)
    if note:
        with st.container(key="wellbeing_note"):
            st.info(md(note), icon=":material/shield_person:")  # names a unit
    released = released_rows(series)
    if not released.empty:
        latest = released.iloc[-1]
        with st.container(key="wellbeing_latest"):
            st.metric(
                _("Latest released figure ({week})").format(week=latest["week"]),
                format_decimal(latest["mean"]),
                help=_("Basis: {basis}; people behind it: {n}").format(
                    basis=md(latest["basis"]), n=latest["n"]
                ),
            )
            st.caption(
                _("Basis: {basis} · people behind it: {n}").format(
                    basis=md(latest["basis"]), n=latest["n"]
                )
            )
        show_chart(wellbeing_chart(series), wellbeing_text(series))
    left, right = st.columns(2)
    with left:
        if mix.empty or bool(mix["suppressed"].all()):
            st.caption(_("Work pattern mix: not released (too few people)."))
        else:
            show_chart(pattern_mix_chart(mix), pattern_mix_text(mix))
            basis = str(mix["basis"].iloc[0])
            if basis != BASIS_TEAM:
                st.caption(_("Work pattern mix {basis}.").format(basis=md(basis)))
    with right:
        if rates.empty:
            st.caption(_("Response rate: no weeks."))
        else:
            last = rates.iloc[-1]
            st.metric(_("Response rate ({week})").format(week=last["week"]), str(last["rate_label"]))
            if rates["response_rate"].notna().any():
                show_chart(response_rate_chart(rates), response_rate_text(rates))
            st.caption(_("Rates under 10 people are shown as a range."))


def _slipping_section(delivery: TeamDelivery) -> None:
    st.subheader(_("Key results slipping or losing confidence"))
    rows = [
        {
            "Key result": kr.metric_name,
            "Objective": kr.objective_title,
            "Status": kr.status.label,
            "Progress": kr.progress,
            "Expected": kr.expected,
            "Confidence": kr.latest_confidence,
            "Before": kr.previous_confidence,
            "Why": kr.status.explanation
            + (" Confidence fell since the previous check-in." if kr.losing_confidence else ""),
        }
        for objective in delivery.objectives
        if not objective.closed
        for kr in objective.key_results
        if kr.slipping or kr.losing_confidence
    ]
    if not rows:
        st.success(_("No key result is slipping or losing confidence."))
        return
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "Progress": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            "Expected": st.column_config.NumberColumn(format="percent"),
        },
    )


def _quadrant_section(
    viewer: Viewer, teams: dict[int, str], today: date, start_week: str, end_week: str
) -> None:
    st.subheader(_("Your teams: delivery against wellbeing"))
    if len(teams) > QUADRANT_AT_ONCE and not st.toggle(
        _("Show all {count} teams (the first time takes a moment)").format(count=len(teams)),
        key="dashboard_quadrant",
    ):
        return
    _record_view(viewer, "team_quadrant", sorted(teams), start_week, end_week)
    points: list[QuadrantPoint] = [
        quadrant_point(teams[team_id], delivery.delivery, series.to_dict("records"))
        for team_id, delivery, series in load_teams_overview(viewer, list(teams), today.isoformat())
    ]
    show_chart(quadrant_chart(points), quadrant_text(points))
    unplaced = [p for p in points if p.quadrant is None]
    if unplaced:
        missing = "; ".join(f"{md(p.team)} ({md(p.note)})" for p in unplaced)
        st.caption(_("Not plotted: {teams}.").format(teams=missing))
    st.caption(QUADRANT_RULE)


def _actions_section(viewer: Viewer, delivery: TeamDelivery, today: date) -> None:
    st.subheader(_("Actions (closing the loop)"))
    actions = load_actions(viewer, delivery.team_id)
    series, _rates, _mix = load_wellbeing(viewer, delivery.team_id)
    released = series.to_dict("records")
    history = delivery.history.to_dict("records")
    if actions:
        for action in actions:
            with st.container(border=True, key=f"action_{action.id}"):
                trigger = f" · in response to: {md(action.trigger)}" if action.trigger else ""
                st.markdown(
                    f"**{md(action.title)}** · {_(ACTION_LABELS[action.status])} · "
                    f"{action.taken_on:%d %b %Y}{trigger}"
                )
                if action.description:
                    st.caption(md(action.description))
                st.caption(effect_text(viewer.email, delivery.team_id, action.id))
                effect = action_effect(iso_week(action.taken_on), released, history)
                if effect.delivery_change is not None:  # before/after only: delivery is not compared
                    st.caption(
                        f"Delivery against expected: {effect.delivery_before:+.0%} before, "
                        f"{effect.delivery_after:+.0%} since (not compared with other teams)."
                    )
                if action.status != "done":
                    following = ACTION_STATUSES[ACTION_STATUSES.index(action.status) + 1]
                    if st.button(f"Mark {ACTION_LABELS[following].lower()}", key=f"advance_{action.id}"):
                        _save(
                            lambda s, a=action, f=following: set_action_status(
                                session=s, viewer=viewer, action_id=a.id, status_name=f
                            ),
                            "Action updated.",
                        )
    else:
        st.caption(_("No actions recorded yet."))
    flagged = _flagged(viewer, delivery.team_id)
    render_start_action(viewer, delivery.team_id, flagged=flagged, on_saved=_save)
    slipping = {
        kr.id: f"{kr.metric_name} ({kr.status.label})"
        for objective in delivery.objectives
        if not objective.closed
        for kr in objective.key_results
        if kr.slipping or kr.losing_confidence
    }
    with st.form("new_action", enter_to_submit=False):
        st.markdown(_("**Record an action**"))
        title = st.text_input(_("What will you do?"), max_chars=200)
        description = st.text_area(_("Details (optional)"), max_chars=2000)
        triggers = [
            "strain flag",
            "wellbeing trend",
            *[f"key result: {text}" for text in slipping.values()],
            "other",
        ]
        trigger = st.selectbox(_("In response to"), triggers)
        status_name = st.selectbox(
            _("Status"), list(ACTION_STATUSES), format_func=partial(label_from, ACTION_LABELS)
        )
        if st.form_submit_button(_("Save action"), type="primary"):
            key_result_id = next(
                (kr_id for kr_id, text in slipping.items() if trigger == f"key result: {text}"), None
            )
            _save(
                lambda s: record_action(
                    session=s,
                    viewer=viewer,
                    team_id=delivery.team_id,
                    title=title,
                    description=description,
                    trigger=trigger,
                    key_result_id=key_result_id,
                    status_name=status_name,
                    taken_on=today,
                ),
                "Action recorded.",
            )


def _flagged(viewer: Viewer, team_id: int) -> bool:
    """Whether the strain panel flags the team (its cached status; False when not assessed)."""
    try:
        status = load_team_strain(viewer, int(team_id), DEFAULT_WINDOW_WEEKS)
    except AccessDenied:
        return False
    return bool(status.record is not None and status.record.flagged)


def _save(action, success: str) -> None:  # type: ignore[no-untyped-def]
    try:
        with write_session(ui.engine()) as session:
            action(session)
    except (OutcomeError, AccessDenied) as error:
        st.error(md(str(error)), icon=":material/error:")
        return
    except IntegrityError:
        st.error(_("The database refused this change because it breaks a rule; nothing was saved."))
        return
    clear_outcome_caches()
    st.session_state[FLASH] = success
    st.rerun()


def _record_view(viewer: Viewer, what: str, team_ids: list[int], start_week: str, end_week: str) -> None:
    """Audit a view of gated aggregates (who, what, when) once per browser session and team(s)."""
    seen: list[str] = st.session_state.setdefault(VIEWS_KEY, [])
    key = f"{what}:{','.join(map(str, team_ids))}:{start_week}:{end_week}"
    if key in seen:
        return
    with write_session(ui.engine()) as session:
        record(
            session,
            actor=viewer.email,
            action=f"view.{what}",
            target=f"teams:{','.join(map(str, team_ids))}",
            detail={"start_week": start_week, "end_week": end_week},
        )
    seen.append(key)


def main() -> None:
    st.title(_("Team dashboard"))
    viewer = ui.require_viewer()
    teams = managed_teams(viewer)
    if not teams:
        st.info(_("You do not manage a team."))
        return
    if flash := st.session_state.pop(FLASH, None):
        st.success(md(flash), icon=":material/check_circle:")  # may quote a title
    team_id = ui.pick_team(teams, key="dashboard_team")
    today = date.today()
    shown = load_wellbeing(viewer, team_id)[0]["week"].tolist()
    start_week, end_week = (shown[0], shown[-1]) if shown else ("none", "none")
    _record_view(viewer, "team_dashboard", [team_id], start_week, end_week)
    delivery = load_team_delivery(viewer, team_id, today.isoformat())
    left, right = st.columns(2, gap="large")
    with left:
        _delivery_section(delivery)
    with right:
        _wellbeing_section(viewer, team_id, start_week, end_week)
    _slipping_section(delivery)
    st.subheader(_("Strain"))
    render_team_strain(viewer, team_id)
    _actions_section(viewer, delivery, today)
    _quadrant_section(viewer, teams, today, start_week, end_week)


main()
