"""Objectives: a manager's weekly check-in, their teams' objectives and key results, and new ones.

Every write goes through ``analytics.objectives`` with the signed-in viewer (which checks that the
team is theirs and validates the input); a refused write shows the reason and saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
import streamlit as st
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from analytics.objectives import (
    KeyResultView,
    ObjectiveView,
    add_key_result,
    create_objective,
    override_status,
    record_check_in,
    set_objective_closed,
    update_key_result,
    update_objective,
)
from analytics.outcomes import STATUS_LABELS, STATUS_RULE, OutcomeError
from app import ui
from app.components.outcomes_data import (
    clear_outcome_caches,
    load_due,
    load_team_objectives,
    managed_teams,
    md,
)
from app.i18n import _, format_date, format_percent
from models.access import AccessDenied, Viewer
from models.db import write_session

FLASH = "objectives_flash"
DIRECTION_LABELS = {"increase": "Increase (higher is better)", "decrease": "Decrease (lower is better)"}


def _quarter(today: date) -> tuple[date, date]:
    """The calendar quarter containing ``today`` (the default objective period)."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    starts_on = date(today.year, first_month, 1)
    next_start = date(today.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    return starts_on, next_start - timedelta(days=1)


def _write(action: Callable[[Session], object], success: str) -> None:
    """Run one write transaction; on success clear the caches and rerun with a confirmation."""
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


def _value_text(value: float | None, unit: str) -> str:
    if value is None:
        return _("no check-in yet")
    return f"{value:g} {unit}".strip()


def _check_in_form(viewer: Viewer, kr: KeyResultView, today: date, *, key: str) -> None:
    """A one-line check-in: value, confidence, optional note."""
    with st.form(key, border=False, enter_to_submit=False):
        value_col, confidence_col, note_col, button_col = st.columns(
            [2, 2, 4, 2], vertical_alignment="bottom"
        )
        value = value_col.number_input(
            _("Value ({unit})").format(unit=md(kr.unit)) if kr.unit else _("Value"),
            value=float(kr.latest_value if kr.latest_value is not None else kr.baseline),
            step=1.0,
            format="%g",
        )
        confidence = confidence_col.number_input(
            _("Confidence (0-10)"),
            min_value=0,
            max_value=10,
            step=1,
            value=int(kr.latest_confidence if kr.latest_confidence is not None else 7),
            help=_("How confident are you that the target will be reached by its due date?"),
        )
        note = note_col.text_input(_("Note (optional)"), max_chars=1000)
        submitted = button_col.form_submit_button(_("Save check-in"), type="primary")
    if submitted:
        _write(
            lambda session: record_check_in(
                session=session,
                viewer=viewer,
                key_result_id=kr.id,
                value=value,
                confidence=int(confidence),
                checked_on=today,
                note=note,
            ),
            _("Check-in saved for {metric}.").format(metric=kr.metric_name),
        )


def _weekly_check_in(viewer: Viewer, teams: dict[int, str], team_id: int, today: date) -> None:
    due = load_due(viewer, today.isoformat())
    st.write(
        _(
            "Key results of your teams with no check-in in the last 7 days: **{count}**. "
            "Enter where each stands and how confident you are of reaching it."
        ).format(count=len(due))
    )
    for kr in due:
        with st.container(border=True, key=f"due_{kr.id}"):
            latest = _value_text(kr.latest_value, kr.unit)
            when = f" on {kr.latest_checked_on:%d %b}" if kr.latest_checked_on else ""
            st.markdown(
                f"**{md(kr.metric_name)}** · {md(kr.objective_title)}  \n"
                f"{md(f'{kr.baseline:g}')} → {md(f'{kr.target:g}')} {md(kr.unit)} "
                f"by {kr.due_date:%d %b %Y}; "
                f"latest {md(latest)}{when}; {kr.status.label}"
            )
            _check_in_form(viewer, kr, today, key=f"due_form_{kr.id}")
    objectives = [o for o in load_team_objectives(viewer, team_id, today.isoformat()) if not o.closed]
    choices = {kr.id: kr for objective in objectives for kr in objective.key_results}
    if choices:
        st.subheader(_("Check in any key result of {team}").format(team=md(teams[team_id])))
        picked = st.selectbox(
            _("Key result"),
            list(choices),
            format_func={
                kr_id: f"{kr.metric_name} ({kr.objective_title})" for kr_id, kr in choices.items()
            }.get,
            key="any_check_in_kr",
        )
        _check_in_form(viewer, choices[picked], today, key=f"any_form_{picked}")


def _key_result_fields(objective: ObjectiveView, kr: KeyResultView | None) -> dict[str, object]:
    """The key result inputs (inside a form), pre-filled from ``kr`` when editing."""
    metric = st.text_input(_("Metric"), value=kr.metric_name if kr else "", max_chars=200)
    unit = st.text_input(_("Unit (e.g. %, days, cases)"), value=kr.unit if kr else "", max_chars=40)
    first, second = st.columns(2)
    baseline = first.number_input(_("Baseline"), value=float(kr.baseline) if kr else 0.0, format="%g")
    target = second.number_input(_("Target"), value=float(kr.target) if kr else 0.0, format="%g")
    direction = first.selectbox(
        _("Direction"),
        list(DIRECTION_LABELS),
        index=list(DIRECTION_LABELS).index(kr.direction) if kr else 0,
        format_func=DIRECTION_LABELS.get,
    )
    weight = second.number_input(
        _("Weight"), value=float(kr.weight) if kr else 1.0, min_value=0.0, step=0.5, format="%g"
    )
    due_date = st.date_input(
        _("Due date"),
        value=kr.due_date if kr else objective.ends_on,
        min_value=objective.starts_on,
        max_value=objective.ends_on,
    )
    return {
        "metric_name": metric,
        "unit": unit,
        "baseline": baseline,
        "target": target,
        "direction": direction,
        "weight": weight,
        "due_date": due_date,
    }


def _objective_panel(viewer: Viewer, objective: ObjectiveView, teams: dict[int, str]) -> None:
    progress = (
        _("no key results yet") if objective.progress is None else format_percent(objective.progress)
    )
    label = _("{title} · {status} · {progress} (expected {expected})").format(
        title=md(objective.title),
        status=_(objective.status.label),
        progress=progress,
        expected=format_percent(objective.expected),
    )
    with st.expander(label, expanded=False):
        if objective.description:
            st.markdown(md(objective.description))
        st.caption(
            _("{start} to {end} · teams: {teams}").format(
                start=format_date(objective.starts_on),
                end=format_date(objective.ends_on),
                teams=md(", ".join(objective.team_names)),
            )
            + (_(" · closed") if objective.closed else "")
        )
        st.markdown(md(objective.status.explanation))
        if objective.key_results:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Key result": kr.metric_name,
                            "From": kr.baseline,
                            "To": kr.target,
                            "Unit": kr.unit,
                            "Due": kr.due_date,
                            "Weight": kr.weight,
                            "Latest": kr.latest_value,
                            "Confidence": kr.latest_confidence,
                            "Progress": kr.progress,
                            "Expected": kr.expected,
                            "Status": kr.status.label,
                        }
                        for kr in objective.key_results
                    ]
                ),
                hide_index=True,
                column_config={
                    "Progress": st.column_config.ProgressColumn(
                        format="percent", min_value=0, max_value=1
                    ),
                    "Expected": st.column_config.NumberColumn(format="percent"),
                },
            )
        managed = set(teams)
        if not set(objective.team_ids) & managed:
            return
        if objective.closed:
            if st.button(_("Reopen objective"), key=f"reopen_{objective.id}"):
                _write(
                    lambda s: set_objective_closed(
                        session=s, viewer=viewer, objective_id=objective.id, closed=False
                    ),
                    _("Reopened {title}.").format(title=objective.title),
                )
            return
        add_tab, edit_kr_tab, edit_tab, status_tab = st.tabs(
            [_("Add key result"), _("Edit a key result"), _("Edit objective"), _("Status and closing")]
        )
        with add_tab, st.form(f"kr_new_{objective.id}", enter_to_submit=False):
            values = _key_result_fields(objective, None)
            if st.form_submit_button(_("Add key result"), type="primary"):
                _write(
                    lambda s: add_key_result(
                        session=s, viewer=viewer, objective_id=objective.id, **values
                    ),
                    _("Key result added to {title}.").format(title=objective.title),
                )
        with edit_kr_tab:
            if not objective.key_results:
                st.write(_("No key results yet."))
            else:
                by_id = {kr.id: kr for kr in objective.key_results}
                chosen = st.selectbox(
                    _("Key result to edit"),
                    list(by_id),
                    format_func={kr_id: kr.metric_name for kr_id, kr in by_id.items()}.get,
                    key=f"kr_pick_{objective.id}",
                )
                with st.form(f"kr_edit_{chosen}", enter_to_submit=False):
                    edited = _key_result_fields(objective, by_id[chosen])
                    if st.form_submit_button(_("Save key result")):
                        _write(
                            lambda s: update_key_result(
                                session=s, viewer=viewer, key_result_id=chosen, **edited
                            ),
                            _("Key result saved."),
                        )
        with edit_tab, st.form(f"objective_edit_{objective.id}", enter_to_submit=False):
            title = st.text_input(_("Title"), value=objective.title, max_chars=200)
            description = st.text_area(_("Description"), value=objective.description, max_chars=2000)
            first, second = st.columns(2)
            starts_on = first.date_input(_("Starts"), value=objective.starts_on)
            ends_on = second.date_input(_("Ends"), value=objective.ends_on)
            if st.form_submit_button(_("Save objective")):
                _write(
                    lambda s: update_objective(
                        session=s,
                        viewer=viewer,
                        objective_id=objective.id,
                        title=title,
                        description=description,
                        starts_on=starts_on,
                        ends_on=ends_on,
                    ),
                    _("Objective saved."),
                )
        with status_tab:
            st.caption(f"Computed: {objective.computed_status.label}. {STATUS_RULE}")
            with st.form(f"override_{objective.id}", enter_to_submit=False):
                options = ["computed", *STATUS_LABELS]
                current = objective.status.name if objective.status.overridden else "computed"
                choice = st.selectbox(
                    _("Status to show"),
                    options,
                    index=options.index(current),
                    format_func={"computed": "Use the computed status", **STATUS_LABELS}.get,
                )
                reason = st.text_input(
                    _("Reason (required for an override; kept in the audit log)"),
                    value=objective.override_reason or "",
                    max_chars=500,
                )
                if st.form_submit_button(_("Save status")):
                    _write(
                        lambda s: override_status(
                            session=s,
                            viewer=viewer,
                            objective_id=objective.id,
                            status_name=None if choice == "computed" else choice,
                            reason=reason,
                        ),
                        _("Status saved."),
                    )
            if st.button(_("Close objective"), key=f"close_{objective.id}"):
                _write(
                    lambda s: set_objective_closed(
                        session=s, viewer=viewer, objective_id=objective.id, closed=True
                    ),
                    _("Closed {title}.").format(title=objective.title),
                )


def _objectives(viewer: Viewer, teams: dict[int, str], team_id: int, today: date) -> None:
    objectives = load_team_objectives(viewer, team_id, today.isoformat())
    open_objectives = [o for o in objectives if not o.closed]
    closed = [o for o in objectives if o.closed]
    if not open_objectives:
        st.info(_("No open objectives for this team yet: create one under **New objective**."))
    for objective in open_objectives:
        _objective_panel(viewer, objective, teams)
    with st.expander(_("How status is worked out")):
        st.markdown(STATUS_RULE)
    if closed:
        st.subheader(_("Closed"))
        for objective in closed:
            _objective_panel(viewer, objective, teams)


def _new_objective(viewer: Viewer, teams: dict[int, str], team_id: int, today: date) -> None:
    starts_default, ends_default = _quarter(today)
    with st.form("new_objective", enter_to_submit=False):
        title = st.text_input(
            _("Title"), max_chars=200, placeholder=_("e.g. Residents get repairs done faster")
        )
        description = st.text_area(_("Description (optional)"), max_chars=2000)
        first, second = st.columns(2)
        starts_on = first.date_input(_("Starts"), value=starts_default)
        ends_on = second.date_input(_("Ends"), value=ends_default)
        chosen = st.multiselect(
            _("Teams sharing it"),
            list(teams),
            default=[team_id],
            format_func=teams.get,
            help=_("Only teams you manage can be added."),
        )
        if st.form_submit_button(_("Create objective"), type="primary"):
            _write(
                lambda s: create_objective(
                    session=s,
                    viewer=viewer,
                    title=title,
                    description=description,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    team_ids=chosen,
                ),
                _("Objective created: {title}. Add its key results under Objectives.").format(
                    title=title.strip()
                ),
            )


def main() -> None:
    st.title(_("Objectives"))
    viewer = ui.require_viewer()
    teams = managed_teams(viewer)
    if not teams:
        st.info(_("You do not manage a team, so there are no objectives for you to keep."))
        return
    if flash := st.session_state.pop(FLASH, None):
        st.success(md(flash), icon=":material/check_circle:")  # may quote a title
    today = date.today()
    team_id = ui.pick_team(teams, key="objectives_team")
    check_in_tab, objectives_tab, new_tab = st.tabs(
        [_("Weekly check-in"), _("Objectives"), _("New objective")]
    )
    with check_in_tab:
        _weekly_check_in(viewer, teams, team_id, today)
    with objectives_tab:
        _objectives(viewer, teams, team_id, today)
    with new_tab:
        _new_objective(viewer, teams, team_id, today)


main()
