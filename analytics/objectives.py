"""Objectives, key results, check-ins and actions: validated writes and access-checked reads.

Every function takes the ``Viewer`` and checks access itself, so a page cannot reach another
manager's team whatever it asks. Writes need the viewer to manage the team (HR and admins may
read); they validate in Python first with messages safe to show (the DB CHECKs are the backstop),
add to the caller's session and flush, and never commit: callers wrap them in
``models.db.write_session`` so a failure changes nothing. The scoring comes from
``analytics.outcomes`` (the one place the rules live).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import pandas as pd
from sqlmodel import Session, col, func, select

from analytics.outcomes import (
    DIRECTIONS,
    STATUS_LABELS,
    STATUS_NAMES,
    OutcomeError,
    Status,
    apply_override,
    delivery_score,
    due_update,
    expected_progress,
    key_result_progress,
    losing_confidence,
    objective_progress,
    status,
    validate_confidence,
    validate_key_result,
    weighted_confidence,
)
from models.access import AccessDenied, Viewer, managed_team_ids, require_team_access
from models.audit import record
from models.org import Unit
from models.outcomes import Action, CheckIn, KeyResult, Objective, ObjectiveTeam
from models.text_rules import unsafe_character

ACTION_STATUSES: tuple[str, ...] = ("planned", "in_progress", "done")
WRITE_DENIED = "You can only change objectives of teams you manage."


# ---------------------------------------------------------------------------------------------
# What the pages and exports read


@dataclass(frozen=True)
class KeyResultView:
    """A key result with its latest check-in, progress, expected progress and status."""

    id: int
    objective_id: int
    objective_title: str
    metric_name: str
    unit: str
    baseline: float
    target: float
    direction: str
    due_date: date
    weight: float
    latest_value: float | None
    latest_confidence: int | None
    latest_checked_on: date | None
    latest_note: str
    previous_confidence: int | None
    progress: float
    expected: float
    status: Status
    losing_confidence: bool
    due_update: bool

    @property
    def slipping(self) -> bool:
        return self.status.name != "on_track"


@dataclass(frozen=True)
class ObjectiveView:
    """An objective with its teams, key results, progress and (possibly overridden) status."""

    id: int
    title: str
    description: str
    starts_on: date
    ends_on: date
    closed: bool
    team_ids: tuple[int, ...]
    team_names: tuple[str, ...]
    progress: float | None
    expected: float
    confidence: float | None
    computed_status: Status
    status: Status
    override_reason: str | None
    key_results: tuple[KeyResultView, ...]

    @property
    def live(self) -> bool:
        return not self.closed and bool(self.key_results)


@dataclass(frozen=True)
class TeamDelivery:
    """A team's objectives today and the weekly history of progress against expected."""

    team_id: int
    team_name: str
    today: date
    objectives: tuple[ObjectiveView, ...]
    history: pd.DataFrame = field(compare=False)

    @property
    def delivery(self) -> float | None:
        """Mean of (progress - expected) over live objectives; None when there are none."""
        scores = [
            delivery_score(objective.progress, objective.expected)
            for objective in self.objectives
            if objective.live and objective.starts_on <= self.today
        ]
        known = [score for score in scores if score is not None]
        return sum(known) / len(known) if known else None


@dataclass(frozen=True)
class ActionView:
    id: int
    team_id: int
    title: str
    description: str
    trigger: str
    key_result_id: int | None
    status: str
    taken_on: date


HISTORY_COLUMNS = ["week_ending", "objective_id", "series", "kind", "progress", "expected"]


# ---------------------------------------------------------------------------------------------
# Access


def _require_manages(session: Session, viewer: Viewer, team_ids: Iterable[int]) -> None:
    """Writes: the viewer must manage every team named (HR and admins only read)."""
    managed = managed_team_ids(session, viewer)
    if not set(team_ids) <= managed:
        raise AccessDenied(WRITE_DENIED)


def _objective_team_ids(session: Session, objective_id: int) -> list[int]:
    rows = session.exec(select(ObjectiveTeam.team_id).where(ObjectiveTeam.objective_id == objective_id))
    return sorted(rows.all())


def _objective_for_write(session: Session, viewer: Viewer, objective_id: int) -> Objective:
    """The objective, if the viewer manages one of its teams (a shared objective is co-owned)."""
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise OutcomeError(f"There is no objective {objective_id}.")
    if not set(_objective_team_ids(session, objective_id)) & managed_team_ids(session, viewer):
        raise AccessDenied(WRITE_DENIED)
    return objective


def _key_result_for_write(
    session: Session, viewer: Viewer, key_result_id: int
) -> tuple[KeyResult, Objective]:
    key_result = session.get(KeyResult, key_result_id)
    if key_result is None:
        raise OutcomeError(f"There is no key result {key_result_id}.")
    return key_result, _objective_for_write(session, viewer, key_result.objective_id)


# ---------------------------------------------------------------------------------------------
# Validation (before anything touches the session)

MULTILINE_FIELDS = frozenset({"Description", "Note", "Reason"})  # the rest take one line


def _clean_text(value: str, *, name: str, max_length: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise OutcomeError(f"{name} is required.")
    if len(text) > max_length:
        raise OutcomeError(f"{name} is too long ({len(text)} characters; at most {max_length}).")
    why = unsafe_character(text, multiline=name in MULTILINE_FIELDS)
    if why:
        raise OutcomeError(f"{name} {why}.")
    return text


def _check_period(starts_on: date, ends_on: date) -> None:
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise OutcomeError("Start and end must be dates.")
    if ends_on <= starts_on:
        raise OutcomeError("The end date must be after the start date.")


def _check_due_date(due_date: date, starts_on: date, ends_on: date) -> None:
    if not isinstance(due_date, date):
        raise OutcomeError("The due date must be a date.")
    if not starts_on < due_date <= ends_on:
        raise OutcomeError(
            f"The due date must fall after the objective starts ({starts_on:%d %b %Y}) and no later "
            f"than it ends ({ends_on:%d %b %Y})."
        )


def _check_teams(session: Session, team_ids: Sequence[int]) -> list[int]:
    unique = sorted(set(team_ids))
    if not unique:
        raise OutcomeError("Choose at least one team.")
    found = session.exec(select(Unit.id).where(col(Unit.id).in_(unique), Unit.kind == "team")).all()
    missing = sorted(set(unique) - set(found))
    if missing:
        raise OutcomeError(f"Unknown team(s): {', '.join(map(str, missing))}.")
    return unique


def _number(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OutcomeError(f"{name} must be a number.")
    return float(value)


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
    title = _clean_text(title, name="Title", max_length=200, required=True)
    description = _clean_text(description, name="Description", max_length=2000, required=False)
    _check_period(starts_on, ends_on)
    teams = _check_teams(session, team_ids)
    _require_manages(session, viewer, teams)
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
    objective = _objective_for_write(session, viewer, objective_id)
    title = _clean_text(title, name="Title", max_length=200, required=True)
    description = _clean_text(description, name="Description", max_length=2000, required=False)
    _check_period(starts_on, ends_on)
    for key_result in session.exec(select(KeyResult).where(KeyResult.objective_id == objective_id)):
        try:
            _check_due_date(key_result.due_date, starts_on, ends_on)
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
    objective = _objective_for_write(session, viewer, objective_id)
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
    objective = _objective_for_write(session, viewer, objective_id)
    reason = _clean_text(reason, name="Reason", max_length=500, required=status_name is not None)
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
    metric_name = _clean_text(metric_name, name="Metric name", max_length=200, required=True)
    unit = _clean_text(unit, name="Unit", max_length=40, required=False)
    baseline, target = _number(baseline, "Baseline"), _number(target, "Target")
    weight = _number(weight, "Weight")
    if direction not in DIRECTIONS:
        raise OutcomeError("Direction must be 'increase' or 'decrease'.")
    validate_key_result(baseline=baseline, target=target, direction=direction, weight=weight)
    _check_due_date(due_date, objective.starts_on, objective.ends_on)
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
    objective = _objective_for_write(session, viewer, objective_id)
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
    key_result, objective = _key_result_for_write(session, viewer, key_result_id)
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
    key_result, objective = _key_result_for_write(session, viewer, key_result_id)
    if objective.closed:
        raise OutcomeError("This objective is closed: reopen it to record check-ins.")
    value = _number(value, "Value")
    validate_confidence(confidence)
    note = _clean_text(note, name="Note", max_length=1000, required=False)
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
    _require_manages(session, viewer, [team_id])
    title = _clean_text(title, name="Action", max_length=200, required=True)
    description = _clean_text(description, name="Description", max_length=2000, required=False)
    trigger = _clean_text(trigger, name="Trigger", max_length=200, required=False)
    if status_name not in ACTION_STATUSES:
        raise OutcomeError("Action status must be planned, in_progress or done.")
    if not isinstance(taken_on, date):
        raise OutcomeError("The action date must be a date.")
    if key_result_id is not None:
        key_result = session.get(KeyResult, key_result_id)
        if key_result is None or team_id not in _objective_team_ids(session, key_result.objective_id):
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
    _require_manages(session, viewer, [action.team_id])
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


def team_actions(*, session: Session, viewer: Viewer, team_id: int) -> list[ActionView]:
    """The team's recorded actions, newest first: for its managers, HR and admins, and for the
    team's own staff ("you said, we did"). Actions are what a manager did, not anyone's answers."""
    if not (viewer.is_staff and viewer.team_id == team_id):
        require_team_access(session, viewer, team_id)
    rows = session.exec(
        select(Action)
        .where(Action.team_id == team_id)
        .order_by(col(Action.taken_on).desc(), col(Action.id).desc())
    ).all()
    return [
        ActionView(
            id=row.id or 0,
            team_id=row.team_id,
            title=row.title,
            description=row.description,
            trigger=row.trigger,
            key_result_id=row.key_result_id,
            status=row.status,
            taken_on=row.taken_on,
        )
        for row in rows
    ]


# ---------------------------------------------------------------------------------------------
# Reading and scoring


def _load_objectives(
    session: Session, objective_ids: Sequence[int]
) -> tuple[
    list[Objective],
    dict[int, list[int]],
    dict[int, list[KeyResult]],
    dict[int, list[CheckIn]],
]:
    """Objectives, their teams, key results and check-ins (oldest first) in four queries."""
    if not objective_ids:
        return [], {}, {}, {}
    objectives = list(
        session.exec(
            select(Objective)
            .where(col(Objective.id).in_(objective_ids))
            .order_by(Objective.starts_on, Objective.id)
        ).all()
    )
    teams: dict[int, list[int]] = defaultdict(list)
    for objective_id, team_id in session.exec(
        select(ObjectiveTeam.objective_id, ObjectiveTeam.team_id)
        .where(col(ObjectiveTeam.objective_id).in_(objective_ids))
        .order_by(ObjectiveTeam.team_id)
    ).all():
        teams[objective_id].append(team_id)
    key_results: dict[int, list[KeyResult]] = defaultdict(list)
    for key_result in session.exec(
        select(KeyResult).where(col(KeyResult.objective_id).in_(objective_ids)).order_by(KeyResult.id)
    ).all():
        key_results[key_result.objective_id].append(key_result)
    kr_ids = [kr.id for krs in key_results.values() for kr in krs]
    check_ins: dict[int, list[CheckIn]] = defaultdict(list)
    if kr_ids:
        for check_in in session.exec(
            select(CheckIn)
            .where(col(CheckIn.key_result_id).in_(kr_ids))
            .order_by(CheckIn.checked_on, CheckIn.id)
        ).all():
            check_ins[check_in.key_result_id].append(check_in)
    return objectives, teams, key_results, check_ins


def _key_result_view(
    key_result: KeyResult, objective: Objective, history: list[CheckIn], today: date
) -> KeyResultView:
    known = [check_in for check_in in history if check_in.checked_on <= today]
    latest = known[-1] if known else None
    previous = known[-2] if len(known) > 1 else None
    progress = key_result_progress(
        key_result.baseline, key_result.target, key_result.direction, latest.value if latest else None
    )
    expected = expected_progress(objective.starts_on, key_result.due_date, today)
    return KeyResultView(
        id=key_result.id or 0,
        objective_id=objective.id or 0,
        objective_title=objective.title,
        metric_name=key_result.metric_name,
        unit=key_result.unit,
        baseline=key_result.baseline,
        target=key_result.target,
        direction=key_result.direction,
        due_date=key_result.due_date,
        weight=key_result.weight,
        latest_value=latest.value if latest else None,
        latest_confidence=latest.confidence if latest else None,
        latest_checked_on=latest.checked_on if latest else None,
        latest_note=latest.note if latest else "",
        previous_confidence=previous.confidence if previous else None,
        progress=progress,
        expected=expected,
        status=status(progress, expected, latest.confidence if latest else None),
        losing_confidence=losing_confidence([c.confidence for c in known]),
        due_update=due_update(latest.checked_on if latest else None, today),
    )


def _objective_view(
    objective: Objective,
    team_ids: list[int],
    team_names: dict[int, str],
    key_results: list[KeyResult],
    check_ins: dict[int, list[CheckIn]],
    today: date,
) -> ObjectiveView:
    views = tuple(
        _key_result_view(kr, objective, check_ins.get(kr.id or 0, []), today) for kr in key_results
    )
    progress = objective_progress([(view.progress, view.weight) for view in views])
    confidence = weighted_confidence([(view.latest_confidence, view.weight) for view in views])
    expected = expected_progress(objective.starts_on, objective.ends_on, today)
    computed = status(progress if progress is not None else 0.0, expected, confidence)
    return ObjectiveView(
        id=objective.id or 0,
        title=objective.title,
        description=objective.description,
        starts_on=objective.starts_on,
        ends_on=objective.ends_on,
        closed=objective.closed,
        team_ids=tuple(team_ids),
        team_names=tuple(team_names.get(team_id, str(team_id)) for team_id in team_ids),
        progress=progress,
        expected=expected,
        confidence=confidence,
        computed_status=computed,
        status=apply_override(computed, objective.status_override, objective.override_reason),
        override_reason=objective.override_reason,
        key_results=views,
    )


def _views(session: Session, objective_ids: Sequence[int], today: date) -> list[ObjectiveView]:
    objectives, teams, key_results, check_ins = _load_objectives(session, objective_ids)
    all_team_ids = {team_id for ids in teams.values() for team_id in ids}
    names = (
        dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(all_team_ids))).all())
        if all_team_ids
        else {}
    )
    return [
        _objective_view(
            objective,
            teams.get(objective.id or 0, []),
            names,
            key_results.get(objective.id or 0, []),
            check_ins,
            today,
        )
        for objective in objectives
    ]


def _team_objective_ids(session: Session, team_ids: Iterable[int]) -> list[int]:
    ids = sorted(set(team_ids))
    if not ids:
        return []
    rows = session.exec(
        select(ObjectiveTeam.objective_id).where(col(ObjectiveTeam.team_id).in_(ids)).distinct()
    ).all()
    return sorted(rows)


def team_objectives(
    *, session: Session, viewer: Viewer, team_id: int, today: date, include_closed: bool = True
) -> list[ObjectiveView]:
    """The team's objectives (shared ones included), scored as of ``today``."""
    require_team_access(session, viewer, team_id)
    views = _views(session, _team_objective_ids(session, [team_id]), today)
    return [view for view in views if include_closed or not view.closed]


def objective_view(*, session: Session, viewer: Viewer, objective_id: int, today: date) -> ObjectiveView:
    """One objective, if the viewer may read one of its teams."""
    team_ids = _objective_team_ids(session, objective_id)
    if not team_ids:
        raise OutcomeError(f"There is no objective {objective_id}.")
    if not (viewer.is_hr or viewer.is_admin) and not set(team_ids) & managed_team_ids(session, viewer):
        raise AccessDenied("You can only see objectives of teams you manage.")
    return _views(session, [objective_id], today)[0]


def key_results_due_update(
    *, session: Session, viewer: Viewer, today: date, team_id: int | None = None
) -> list[KeyResultView]:
    """Key results of open objectives of the viewer's teams with no check-in in the last 7 days."""
    if team_id is not None:
        require_team_access(session, viewer, team_id)
        team_ids = {team_id}
    else:
        team_ids = managed_team_ids(session, viewer)
    views = _views(session, _team_objective_ids(session, team_ids), today)
    return [
        key_result
        for objective in views
        if not objective.closed and objective.starts_on <= today
        for key_result in objective.key_results
        if key_result.due_update
    ]


def _week_ends(starts_on: date, until: date) -> list[date]:
    """Sundays from the week of ``starts_on`` through the week of ``until``."""
    first = starts_on + timedelta(days=6 - starts_on.weekday())
    last = until + timedelta(days=6 - until.weekday())
    count = (last - first).days // 7 + 1
    return [first + timedelta(weeks=index) for index in range(max(count, 0))]


def delivery_history(
    objectives: Sequence[Objective],
    key_results: dict[int, list[KeyResult]],
    check_ins: dict[int, list[CheckIn]],
    today: date,
) -> pd.DataFrame:
    """Weekly progress and expected progress of each objective and key result, from check-in history.

    Each week's point uses the latest check-in on or before that week's Sunday (or today, for the
    current week).
    """
    rows: list[dict[str, object]] = []
    for objective in objectives:
        krs = key_results.get(objective.id or 0, [])
        if not krs or objective.starts_on > today:
            continue
        for week_end in _week_ends(objective.starts_on, min(today, objective.ends_on)):
            as_of = min(week_end, today)
            parts: list[tuple[float, float]] = []
            for kr in krs:
                seen = [c for c in check_ins.get(kr.id or 0, []) if c.checked_on <= as_of]
                progress = key_result_progress(
                    kr.baseline, kr.target, kr.direction, seen[-1].value if seen else None
                )
                parts.append((progress, kr.weight))
                rows.append(
                    {
                        "week_ending": as_of,
                        "objective_id": objective.id,
                        "series": f"{objective.title}: {kr.metric_name}",
                        "kind": "key result",
                        "progress": progress,
                        "expected": expected_progress(objective.starts_on, kr.due_date, as_of),
                    }
                )
            rows.append(
                {
                    "week_ending": as_of,
                    "objective_id": objective.id,
                    "series": objective.title,
                    "kind": "objective",
                    "progress": objective_progress(parts),
                    "expected": expected_progress(objective.starts_on, objective.ends_on, as_of),
                }
            )
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def team_delivery(*, session: Session, viewer: Viewer, team_id: int, today: date) -> TeamDelivery:
    """What the team dashboard shows about delivery: objectives now and progress week by week."""
    require_team_access(session, viewer, team_id)
    team = session.get(Unit, team_id)
    if team is None:
        raise OutcomeError(f"There is no team {team_id}.")
    objective_ids = _team_objective_ids(session, [team_id])
    objectives, teams, key_results, check_ins = _load_objectives(session, objective_ids)
    all_team_ids = {tid for ids in teams.values() for tid in ids}
    names = (
        dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(all_team_ids))).all())
        if all_team_ids
        else {}
    )
    views = tuple(
        _objective_view(
            o, teams.get(o.id or 0, []), names, key_results.get(o.id or 0, []), check_ins, today
        )
        for o in objectives
    )
    open_objectives = [o for o in objectives if not o.closed]
    return TeamDelivery(
        team_id=team_id,
        team_name=team.name,
        today=today,
        objectives=views,
        history=delivery_history(open_objectives, key_results, check_ins, today),
    )


def delivery_features(
    *, session: Session, team_ids: Iterable[int], today: date, window_weeks: int
) -> pd.DataFrame:
    """Per team, for strain detection: ``delivery_gap`` and ``confidence_trend`` (NaN without data).

    ``delivery_gap`` is expected minus actual progress, averaged over the team's live objectives
    (open, started, with key results). ``confidence_trend`` is the least-squares change per week of
    the mean key-result confidence of check-ins in the trailing ``window_weeks`` weeks (needs check-ins
    in at least two different weeks). Internal to the analytics layer (no viewer): callers gate who
    sees the result.
    """
    if window_weeks < 1:
        raise OutcomeError("The window must be at least one week.")
    wanted = sorted(set(team_ids))
    frame = pd.DataFrame({"team_id": wanted, "delivery_gap": math.nan, "confidence_trend": math.nan})
    if not wanted:
        return frame
    # Plain column queries (no ORM objects): strain detection runs this over every team at once.
    links: dict[int, list[int]] = defaultdict(list)
    for objective_id, team_id in session.exec(
        select(ObjectiveTeam.objective_id, ObjectiveTeam.team_id).where(
            col(ObjectiveTeam.team_id).in_(wanted)
        )
    ).all():
        links[objective_id].append(team_id)
    objective_ids = sorted(links)
    if not objective_ids:
        return frame
    periods = {
        objective_id: (starts_on, ends_on)
        for objective_id, starts_on, ends_on in session.exec(
            select(Objective.id, Objective.starts_on, Objective.ends_on).where(
                col(Objective.id).in_(objective_ids),
                col(Objective.closed).is_(False),
                Objective.starts_on <= today,
            )
        ).all()
    }
    key_results = session.exec(
        select(
            KeyResult.id,
            KeyResult.objective_id,
            KeyResult.baseline,
            KeyResult.target,
            KeyResult.direction,
            KeyResult.weight,
        ).where(col(KeyResult.objective_id).in_(objective_ids))
    ).all()
    ranked = (
        select(
            CheckIn.key_result_id,
            CheckIn.value,
            func.row_number()
            .over(
                partition_by=CheckIn.key_result_id,
                order_by=(col(CheckIn.checked_on).desc(), col(CheckIn.id).desc()),
            )
            .label("rank"),
        )
        .join(KeyResult, col(KeyResult.id) == CheckIn.key_result_id)
        .where(col(KeyResult.objective_id).in_(list(periods) or [-1]), CheckIn.checked_on <= today)
        .subquery()
    )
    latest = dict(
        session.exec(select(ranked.c.key_result_id, ranked.c.value).where(ranked.c.rank == 1)).all()
    )
    parts: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for kr_id, objective_id, baseline, target, direction, weight in key_results:
        if objective_id in periods:
            progress = key_result_progress(baseline, target, direction, latest.get(kr_id))
            parts[objective_id].append((progress, weight))
    gaps: dict[int, list[float]] = defaultdict(list)
    for objective_id, weighted in parts.items():
        starts_on, ends_on = periods[objective_id]
        gap = expected_progress(starts_on, ends_on, today) - (objective_progress(weighted) or 0.0)
        for team_id in links[objective_id]:
            gaps[team_id].append(gap)
    window_start = today - timedelta(weeks=window_weeks)
    weekly_confidence: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for objective_id, checked_on, confidence in session.exec(
        select(KeyResult.objective_id, CheckIn.checked_on, CheckIn.confidence)
        .join(KeyResult, col(KeyResult.id) == CheckIn.key_result_id)
        .where(
            col(KeyResult.objective_id).in_(objective_ids),
            CheckIn.checked_on > window_start,
            CheckIn.checked_on <= today,
        )
    ).all():
        week_index = (checked_on - window_start).days // 7
        for team_id in links[objective_id]:
            weekly_confidence[team_id][week_index].append(confidence)
    delivery_gap, confidence_trend = [], []
    for team_id in wanted:
        team_gaps = gaps.get(team_id)
        delivery_gap.append(sum(team_gaps) / len(team_gaps) if team_gaps else math.nan)
        weeks = weekly_confidence.get(team_id, {})
        confidence_trend.append(_slope(weeks) if len(weeks) >= 2 else math.nan)
    frame["delivery_gap"] = delivery_gap
    frame["confidence_trend"] = confidence_trend
    return frame


def delivery_by_team(
    *, session: Session, viewer: Viewer, team_ids: Iterable[int], today: date
) -> dict[int, float | None]:
    """Delivery (progress minus expected, mean over live objectives; None without any) per team, for
    the quadrant: HR and admins for any team, a manager for the teams they manage, checked here."""
    wanted = sorted(set(team_ids))
    if not (viewer.is_hr or viewer.is_admin) and not set(wanted) <= managed_team_ids(session, viewer):
        raise AccessDenied("You can only see teams you manage.")
    features = delivery_features(session=session, team_ids=wanted, today=today, window_weeks=1)
    return {
        int(team_id): None if math.isnan(gap) else -float(gap)
        for team_id, gap in zip(features["team_id"], features["delivery_gap"], strict=True)
    }


def _slope(weeks: dict[int, list[int]]) -> float:
    """Least-squares slope of the weekly mean against the week index."""
    xs = sorted(weeks)
    ys = [sum(weeks[x]) / len(weeks[x]) for x in xs]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


# ---------------------------------------------------------------------------------------------
# Export

EXPORT_COLUMNS = [
    "objective_id",
    "objective",
    "teams",
    "starts_on",
    "ends_on",
    "closed",
    "objective_progress",
    "objective_expected",
    "objective_status",
    "objective_computed_status",
    "override_reason",
    "key_result_id",
    "metric",
    "unit",
    "direction",
    "baseline",
    "target",
    "weight",
    "due_date",
    "latest_value",
    "latest_confidence",
    "latest_checked_on",
    "key_result_progress",
    "key_result_expected",
    "key_result_status",
]


def outcomes_export(*, session: Session, today: date) -> list[ObjectiveView]:
    """Every objective with its key results, scored as of ``today`` (for the operator's export)."""
    ids = sorted(session.exec(select(Objective.id)).all())
    return _views(session, [i for i in ids if i is not None], today)


def export_rows(views: Sequence[ObjectiveView]) -> pd.DataFrame:
    """One row per key result (an objective without key results gets one row with those blank)."""
    rows: list[dict[str, object]] = []
    for view in views:
        base = {
            "objective_id": view.id,
            "objective": view.title,
            "teams": "; ".join(view.team_names),
            "starts_on": view.starts_on.isoformat(),
            "ends_on": view.ends_on.isoformat(),
            "closed": view.closed,
            "objective_progress": view.progress,
            "objective_expected": view.expected,
            "objective_status": view.status.name,
            "objective_computed_status": view.computed_status.name,
            "override_reason": view.override_reason,
        }
        if not view.key_results:
            rows.append(base)
        for kr in view.key_results:
            rows.append(
                {
                    **base,
                    "key_result_id": kr.id,
                    "metric": kr.metric_name,
                    "unit": kr.unit,
                    "direction": kr.direction,
                    "baseline": kr.baseline,
                    "target": kr.target,
                    "weight": kr.weight,
                    "due_date": kr.due_date.isoformat(),
                    "latest_value": kr.latest_value,
                    "latest_confidence": kr.latest_confidence,
                    "latest_checked_on": kr.latest_checked_on.isoformat()
                    if kr.latest_checked_on
                    else None,
                    "key_result_progress": kr.progress,
                    "key_result_expected": kr.expected,
                    "key_result_status": kr.status.name,
                }
            )
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def export_document(views: Sequence[ObjectiveView], today: date) -> dict[str, object]:
    """The JSON export: objectives with their key results nested, and the rule that scored them."""

    def key_result(kr: KeyResultView) -> dict[str, object]:
        data = asdict(kr)
        data.pop("objective_title")
        data["status"] = kr.status.name
        data["status_explanation"] = kr.status.explanation
        for name in ("due_date", "latest_checked_on"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    return {
        "generated_on": today.isoformat(),
        "objectives": [
            {
                "id": view.id,
                "title": view.title,
                "description": view.description,
                "teams": list(view.team_names),
                "starts_on": view.starts_on.isoformat(),
                "ends_on": view.ends_on.isoformat(),
                "closed": view.closed,
                "progress": view.progress,
                "expected": view.expected,
                "confidence": view.confidence,
                "status": view.status.name,
                "computed_status": view.computed_status.name,
                "status_explanation": view.status.explanation,
                "override_reason": view.override_reason,
                "key_results": [key_result(kr) for kr in view.key_results],
            }
            for view in views
        ],
    }
