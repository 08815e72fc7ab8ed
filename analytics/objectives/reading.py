"""Reading and scoring: a team's objectives, delivery history and the delivery measures strain
and the quadrant read, all access-checked."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import pandas as pd
from sqlmodel import Session, col, func, select

from analytics.objectives.checks import objective_team_ids
from analytics.objectives.views import (
    HISTORY_COLUMNS,
    ActionView,
    KeyResultView,
    ObjectiveView,
    TeamDelivery,
)
from analytics.outcomes import (
    OutcomeError,
    apply_override,
    due_update,
    expected_progress,
    key_result_progress,
    losing_confidence,
    objective_progress,
    status,
    weighted_confidence,
)
from models.access import AccessDenied, Viewer, managed_team_ids, require_team_access
from models.org import Unit
from models.outcomes import Action, CheckIn, KeyResult, Objective, ObjectiveTeam

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


def objective_views(session: Session, objective_ids: Sequence[int], today: date) -> list[ObjectiveView]:
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
    views = objective_views(session, _team_objective_ids(session, [team_id]), today)
    return [view for view in views if include_closed or not view.closed]


def objective_view(*, session: Session, viewer: Viewer, objective_id: int, today: date) -> ObjectiveView:
    """One objective, if the viewer may read one of its teams."""
    team_ids = objective_team_ids(session, objective_id)
    if not team_ids:
        raise OutcomeError(f"There is no objective {objective_id}.")
    if not (viewer.is_hr or viewer.is_admin) and not set(team_ids) & managed_team_ids(session, viewer):
        raise AccessDenied("You can only see objectives of teams you manage.")
    return objective_views(session, [objective_id], today)[0]


def key_results_due_update(
    *, session: Session, viewer: Viewer, today: date, team_id: int | None = None
) -> list[KeyResultView]:
    """Key results of open objectives of the viewer's teams with no check-in in the last 7 days."""
    if team_id is not None:
        require_team_access(session, viewer, team_id)
        team_ids = {team_id}
    else:
        team_ids = managed_team_ids(session, viewer)
    views = objective_views(session, _team_objective_ids(session, team_ids), today)
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
