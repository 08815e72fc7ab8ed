"""Writes: objectives, key results, check-ins and actions. Each checks access and validates
first, adds to the caller's session and flushes, and never commits (callers use
``models.db.write_session``, so a failure changes nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, select

from analytics.objectives.checks import (
    check_due_date,
    check_period,
    check_teams,
    checked_number,
    clean_text,
    key_result_for_write,
    objective_for_write,
    objective_team_ids,
    require_manages,
)
from analytics.objectives.views import ACTION_STATUSES
from analytics.outcomes import (
    DIRECTIONS,
    STATUS_LABELS,
    STATUS_NAMES,
    OutcomeError,
    validate_confidence,
    validate_key_result,
)
from models.access import Viewer
from models.audit import record
from models.outcomes import Action, CheckIn, KeyResult, Objective, ObjectiveTeam

# ---------------------------------------------------------------------------------------------
# Objectives


def create_objective(
    *,
    session: Session,
    viewer: Viewer,
    title: str,
    starts_on: date,
    ends_on: date,
    team_ids: Sequence[int],
    description: str = "",
) -> Objective:
    """Create an objective for one or more teams the viewer manages."""
    title = clean_text(title, name="Title", max_length=200, required=True)
    description = clean_text(description, name="Description", max_length=2000, required=False)
    check_period(starts_on, ends_on)
    teams = check_teams(session, team_ids)
    require_manages(session, viewer, teams)
    objective = Objective(
        title=title,
        description=description,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=viewer.person_id,
    )
    session.add(objective)
    session.flush()
    for team_id in teams:
        session.add(ObjectiveTeam(objective_id=objective.id, team_id=team_id))
    record(
        session,
        actor=viewer.email,
        action="objective.create",
        target=f"objective:{objective.id}",
        detail={"title": title, "teams": teams, "starts_on": starts_on, "ends_on": ends_on},
    )
    session.flush()
    return objective


def update_objective(
    *,
    session: Session,
    viewer: Viewer,
    objective_id: int,
    title: str,
    starts_on: date,
    ends_on: date,
    description: str = "",
) -> Objective:
    """Edit an objective's wording and period (its key results' due dates must still fit)."""
    objective = objective_for_write(session, viewer, objective_id)
    title = clean_text(title, name="Title", max_length=200, required=True)
    description = clean_text(description, name="Description", max_length=2000, required=False)
    check_period(starts_on, ends_on)
    for key_result in session.exec(select(KeyResult).where(KeyResult.objective_id == objective_id)):
        try:
            check_due_date(key_result.due_date, starts_on, ends_on)
        except OutcomeError:
            raise OutcomeError(
                f"Key result '{key_result.metric_name}' is due {key_result.due_date:%d %b %Y}, outside "
                "the new period: change its due date first."
            ) from None
    before = {"title": objective.title, "starts_on": objective.starts_on, "ends_on": objective.ends_on}
    objective.title, objective.description = title, description
    objective.starts_on, objective.ends_on = starts_on, ends_on
    session.add(objective)
    record(
        session,
        actor=viewer.email,
        action="objective.update",
        target=f"objective:{objective_id}",
        detail={"before": before, "title": title, "starts_on": starts_on, "ends_on": ends_on},
    )
    session.flush()
    return objective


def set_objective_closed(
    *, session: Session, viewer: Viewer, objective_id: int, closed: bool
) -> Objective:
    """Close an objective (it leaves the dashboard and strain features) or reopen it."""
    objective = objective_for_write(session, viewer, objective_id)
    objective.closed = closed
    session.add(objective)
    action = "objective.close" if closed else "objective.reopen"
    record(session, actor=viewer.email, action=action, target=f"objective:{objective_id}")
    session.flush()
    return objective


def override_status(
    *, session: Session, viewer: Viewer, objective_id: int, status_name: str | None, reason: str
) -> Objective:
    """Override the computed status with a reason (kept in the audit log); None clears it."""
    objective = objective_for_write(session, viewer, objective_id)
    reason = clean_text(reason, name="Reason", max_length=500, required=status_name is not None)
    if status_name is not None and status_name not in STATUS_NAMES:
        raise OutcomeError(f"Status must be one of {', '.join(STATUS_LABELS.values())}.")
    before = objective.status_override
    objective.status_override = status_name
    objective.override_reason = reason if status_name is not None else None
    session.add(objective)
    record(
        session,
        actor=viewer.email,
        action="objective.status_override" if status_name else "objective.status_override_cleared",
        target=f"objective:{objective_id}",
        detail={"from": before, "to": status_name, "reason": reason},
    )
    session.flush()
    return objective


# ---------------------------------------------------------------------------------------------
# Key results and check-ins


def _validated_key_result(
    *,
    metric_name: str,
    unit: str,
    baseline: float,
    target: float,
    direction: str,
    due_date: date,
    weight: float,
    objective: Objective,
) -> dict[str, object]:
    metric_name = clean_text(metric_name, name="Metric name", max_length=200, required=True)
    unit = clean_text(unit, name="Unit", max_length=40, required=False)
    baseline, target = checked_number(baseline, "Baseline"), checked_number(target, "Target")
    weight = checked_number(weight, "Weight")
    if direction not in DIRECTIONS:
        raise OutcomeError("Direction must be 'increase' or 'decrease'.")
    validate_key_result(baseline=baseline, target=target, direction=direction, weight=weight)
    check_due_date(due_date, objective.starts_on, objective.ends_on)
    return {
        "metric_name": metric_name,
        "unit": unit,
        "baseline": baseline,
        "target": target,
        "direction": direction,
        "due_date": due_date,
        "weight": weight,
    }


def add_key_result(
    *,
    session: Session,
    viewer: Viewer,
    objective_id: int,
    metric_name: str,
    baseline: float,
    target: float,
    direction: str,
    due_date: date,
    unit: str = "",
    weight: float = 1.0,
) -> KeyResult:
    """Add a measurable key result to an open objective."""
    objective = objective_for_write(session, viewer, objective_id)
    if objective.closed:
        raise OutcomeError("This objective is closed: reopen it to add key results.")
    values = _validated_key_result(
        metric_name=metric_name,
        unit=unit,
        baseline=baseline,
        target=target,
        direction=direction,
        due_date=due_date,
        weight=weight,
        objective=objective,
    )
    key_result = KeyResult(objective_id=objective_id, **values)
    session.add(key_result)
    session.flush()
    record(
        session,
        actor=viewer.email,
        action="key_result.create",
        target=f"key_result:{key_result.id}",
        detail={"objective": objective_id, **values},
    )
    session.flush()
    return key_result


def update_key_result(
    *,
    session: Session,
    viewer: Viewer,
    key_result_id: int,
    metric_name: str,
    baseline: float,
    target: float,
    direction: str,
    due_date: date,
    unit: str = "",
    weight: float = 1.0,
) -> KeyResult:
    """Edit a key result of an open objective."""
    key_result, objective = key_result_for_write(session, viewer, key_result_id)
    if objective.closed:
        raise OutcomeError("This objective is closed: reopen it to edit key results.")
    values = _validated_key_result(
        metric_name=metric_name,
        unit=unit,
        baseline=baseline,
        target=target,
        direction=direction,
        due_date=due_date,
        weight=weight,
        objective=objective,
    )
    before = key_result.model_dump(include=set(values))
    for name, value in values.items():
        setattr(key_result, name, value)
    session.add(key_result)
    record(
        session,
        actor=viewer.email,
        action="key_result.update",
        target=f"key_result:{key_result_id}",
        detail={"before": before, "after": values},
    )
    session.flush()
    return key_result


def record_check_in(
    *,
    session: Session,
    viewer: Viewer,
    key_result_id: int,
    value: float,
    confidence: int,
    checked_on: date,
    note: str = "",
) -> CheckIn:
    """Record where a key result stands and how confident the team is (0-10) of reaching it."""
    key_result, objective = key_result_for_write(session, viewer, key_result_id)
    if objective.closed:
        raise OutcomeError("This objective is closed: reopen it to record check-ins.")
    value = checked_number(value, "Value")
    validate_confidence(confidence)
    note = clean_text(note, name="Note", max_length=1000, required=False)
    if not isinstance(checked_on, date):
        raise OutcomeError("The check-in date must be a date.")
    if checked_on > date.today():
        raise OutcomeError("A check-in cannot be dated in the future.")
    if checked_on < objective.starts_on:
        raise OutcomeError(
            f"A check-in cannot be dated before the objective starts ({objective.starts_on})."
        )
    check_in = CheckIn(
        key_result_id=key_result_id,
        value=value,
        confidence=confidence,
        checked_on=checked_on,
        note=note,
        recorded_by_id=viewer.person_id,
    )
    session.add(check_in)
    session.flush()
    record(
        session,
        actor=viewer.email,
        action="check_in.create",
        target=f"key_result:{key_result_id}",
        detail={"value": value, "confidence": confidence, "checked_on": checked_on},
    )
    session.flush()
    return check_in


# ---------------------------------------------------------------------------------------------
# Actions ("closing the loop")


def record_action(
    *,
    session: Session,
    viewer: Viewer,
    team_id: int,
    title: str,
    taken_on: date,
    description: str = "",
    trigger: str = "",
    key_result_id: int | None = None,
    status_name: str = "planned",
) -> Action:
    """Record what the manager is doing about a strain flag or a slipping key result."""
    require_manages(session, viewer, [team_id])
    title = clean_text(title, name="Action", max_length=200, required=True)
    description = clean_text(description, name="Description", max_length=2000, required=False)
    trigger = clean_text(trigger, name="Trigger", max_length=200, required=False)
    if status_name not in ACTION_STATUSES:
        raise OutcomeError("Action status must be planned, in_progress or done.")
    if not isinstance(taken_on, date):
        raise OutcomeError("The action date must be a date.")
    if key_result_id is not None:
        key_result = session.get(KeyResult, key_result_id)
        if key_result is None or team_id not in objective_team_ids(session, key_result.objective_id):
            raise OutcomeError("That key result does not belong to this team.")
    action = Action(
        team_id=team_id,
        title=title,
        description=description,
        trigger=trigger,
        key_result_id=key_result_id,
        status=status_name,
        taken_on=taken_on,
        created_by_id=viewer.person_id,
    )
    session.add(action)
    session.flush()
    record(
        session,
        actor=viewer.email,
        action="action.create",
        target=f"action:{action.id}",
        detail={"team": team_id, "title": title, "trigger": trigger},
    )
    session.flush()
    return action


def set_action_status(*, session: Session, viewer: Viewer, action_id: int, status_name: str) -> Action:
    action = session.get(Action, action_id)
    if action is None:
        raise OutcomeError(f"There is no action {action_id}.")
    require_manages(session, viewer, [action.team_id])
    if status_name not in ACTION_STATUSES:
        raise OutcomeError("Action status must be planned, in_progress or done.")
    action.status = status_name
    session.add(action)
    record(
        session,
        actor=viewer.email,
        action="action.status",
        target=f"action:{action_id}",
        detail={"status": status_name},
    )
    session.flush()
    return action
