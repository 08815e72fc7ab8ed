"""Objective services on SQLite and PostgreSQL: validation, access, audit, delivery, features."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from analytics.objectives import add_key_result as add_kr
from analytics.objectives import (
    create_objective,
    delivery_by_team,
    delivery_features,
    export_rows,
    key_results_due_update,
    objective_view,
    outcomes_export,
    override_status,
    record_action,
    record_check_in,
    set_objective_closed,
    team_actions,
    team_delivery,
    team_objectives,
    update_key_result,
    update_objective,
)
from analytics.outcomes import OutcomeError, key_result_progress
from models.access import AccessDenied, Viewer, load_viewer
from models.db import read_session, write_session
from models.org import Person, RoleGrant, Unit
from models.outcomes import AuditEntry, CheckIn, KeyResult, Objective

TODAY = date.today()
START = TODAY - timedelta(days=45)
END = START + timedelta(days=90)


@dataclass
class Org:
    team_a: int
    team_b: int
    team_c: int
    manager_a: Viewer  # manages A and C
    manager_b: Viewer  # manages B only
    hr: Viewer
    staff: Viewer


def _org(engine: Engine) -> Org:
    with write_session(engine) as session:
        root = Unit(code="ORG", name="Council", kind="organisation")
        session.add(root)
        session.flush()
        teams = [Unit(code=f"T{i}", name=f"Team {i}", kind="team", parent_id=root.id) for i in "ABC"]
        session.add_all(teams)
        session.flush()
        people = {
            "ma": Person(email="ma@x.gov.uk", display_name="Manager A", team_id=teams[0].id),
            "mb": Person(email="mb@x.gov.uk", display_name="Manager B", team_id=teams[1].id),
            "hr": Person(email="hr@x.gov.uk", display_name="HR", team_id=None),
            "st": Person(email="st@x.gov.uk", display_name="Staff", team_id=teams[0].id),
        }
        session.add_all(people.values())
        session.flush()
        session.add_all(
            [
                RoleGrant(person_id=people["ma"].id, role="manager", unit_id=teams[0].id),
                RoleGrant(person_id=people["ma"].id, role="manager", unit_id=teams[2].id),
                RoleGrant(person_id=people["mb"].id, role="manager", unit_id=teams[1].id),
                RoleGrant(person_id=people["hr"].id, role="hr"),
            ]
        )
        ids = [team.id for team in teams]
    with read_session(engine) as session:
        viewers = {key: load_viewer(session, f"{key}@x.gov.uk") for key in ("ma", "mb", "hr", "st")}
    return Org(ids[0], ids[1], ids[2], viewers["ma"], viewers["mb"], viewers["hr"], viewers["st"])


def _objective(
    engine: Engine, viewer: Viewer, team_ids: list[int], title: str = "Faster repairs"
) -> int:
    with write_session(engine) as session:
        objective = create_objective(
            session=session, viewer=viewer, title=title, starts_on=START, ends_on=END, team_ids=team_ids
        )
        return objective.id


def _key_result(engine: Engine, viewer: Viewer, objective_id: int, **overrides: object) -> int:
    values: dict[str, object] = {
        "metric_name": "Repairs done in 7 days",
        "unit": "%",
        "baseline": 60.0,
        "target": 80.0,
        "direction": "increase",
        "due_date": END,
        "weight": 1.0,
    }
    values.update(overrides)
    with write_session(engine) as session:
        return add_kr(session=session, viewer=viewer, objective_id=objective_id, **values).id


def _check_in(
    engine: Engine, viewer: Viewer, kr_id: int, value: float, confidence: int, on: date
) -> None:
    with write_session(engine) as session:
        record_check_in(
            session=session,
            viewer=viewer,
            key_result_id=kr_id,
            value=value,
            confidence=confidence,
            checked_on=on,
        )


def test_objective_with_two_key_results_scores_progress_and_status(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    up = _key_result(engine, org.manager_a, objective_id)
    down = _key_result(
        engine,
        org.manager_a,
        objective_id,
        metric_name="Backlog",
        unit="jobs",
        baseline=120.0,
        target=80.0,
        direction="decrease",
        weight=3.0,
    )
    _check_in(engine, org.manager_a, up, 70.0, 8, TODAY - timedelta(days=1))  # half way
    _check_in(engine, org.manager_a, down, 110.0, 8, TODAY - timedelta(days=1))  # a quarter
    with read_session(engine) as session:
        delivery = team_delivery(session=session, viewer=org.manager_a, team_id=org.team_a, today=TODAY)
    (objective,) = delivery.objectives
    assert [kr.progress for kr in objective.key_results] == pytest.approx([0.5, 0.25])
    assert objective.progress == pytest.approx((0.5 * 1 + 0.25 * 3) / 4)
    assert objective.expected == pytest.approx(45 / 90)
    # 31% against 50% expected is more than 10 points behind: at risk, and it says why
    assert objective.status.name == "at_risk"
    assert "more than 10% behind" in objective.status.explanation
    # history has a point per week for the objective and each key result, ending today
    latest = delivery.history[delivery.history["week_ending"] == TODAY]
    assert set(latest["kind"]) == {"objective", "key result"}
    assert latest[latest["kind"] == "objective"]["progress"].iloc[0] == pytest.approx(objective.progress)
    first = delivery.history["week_ending"].min()
    assert delivery.history[delivery.history["week_ending"] == first]["progress"].max() == 0.0


def test_check_in_moves_progress_and_status(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    kr = _key_result(engine, org.manager_a, objective_id)
    with read_session(engine) as session:
        before = objective_view(
            session=session, viewer=org.manager_a, objective_id=objective_id, today=TODAY
        )
    assert before.progress == 0.0 and before.status.name == "off_track"
    _check_in(engine, org.manager_a, kr, 72.0, 9, TODAY)
    with read_session(engine) as session:
        after = objective_view(
            session=session, viewer=org.manager_a, objective_id=objective_id, today=TODAY
        )
    assert after.progress == pytest.approx(0.6) and after.status.name == "on_track"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"baseline": 50.0, "target": 50.0}, "Baseline and target are the same"),
        ({"baseline": 80.0, "target": 60.0}, "below the baseline"),
        ({"weight": 0.0}, "Weight must be more than 0"),
        ({"metric_name": "   "}, "Metric name is required"),
        ({"due_date": START}, "due date must fall after"),
        ({"due_date": END + timedelta(days=1)}, "due date must fall after"),
        ({"direction": "up"}, "Direction must be"),
    ],
)
def test_bad_key_results_are_refused_and_nothing_is_saved(
    engine: Engine, overrides: dict[str, object], message: str
) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    with pytest.raises(OutcomeError, match=message):
        _key_result(engine, org.manager_a, objective_id, **overrides)
    with read_session(engine) as session:
        assert session.exec(select(KeyResult)).all() == []


def test_bad_objectives_are_refused_and_nothing_is_saved(engine: Engine) -> None:
    org = _org(engine)
    cases = [
        (
            {"title": "", "starts_on": START, "ends_on": END, "team_ids": [org.team_a]},
            "Title is required",
        ),
        (
            {"title": "x", "starts_on": END, "ends_on": START, "team_ids": [org.team_a]},
            "end date must be after",
        ),
        ({"title": "x", "starts_on": START, "ends_on": END, "team_ids": []}, "at least one team"),
        ({"title": "x", "starts_on": START, "ends_on": END, "team_ids": [99999]}, "Unknown team"),
        ({"title": "x" * 201, "starts_on": START, "ends_on": END, "team_ids": [org.team_a]}, "too long"),
    ]
    for values, message in cases:
        with pytest.raises(OutcomeError, match=message), write_session(engine) as session:
            create_objective(session=session, viewer=org.manager_a, **values)
    with read_session(engine) as session:
        assert session.exec(select(Objective)).all() == []
        assert session.exec(select(AuditEntry)).all() == []


def test_database_constraints_are_the_backstop(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    with pytest.raises(IntegrityError), write_session(engine) as session:
        session.add(
            KeyResult(
                objective_id=objective_id,
                metric_name="x",
                baseline=5,
                target=5,
                direction="increase",
                due_date=END,
            )
        )
    kr = _key_result(engine, org.manager_a, objective_id)
    with pytest.raises(IntegrityError), write_session(engine) as session:
        session.add(CheckIn(key_result_id=kr, value=1, confidence=11, checked_on=TODAY))


def test_bad_check_ins_are_refused(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    kr = _key_result(engine, org.manager_a, objective_id)
    for value, confidence, on, message in [
        (70.0, 11, TODAY, "Confidence must be"),
        (70.0, -1, TODAY, "Confidence must be"),
        (float("nan"), 5, TODAY, "Value must be a number"),
        (70.0, 5, TODAY + timedelta(days=1), "future"),
        (70.0, 5, START - timedelta(days=1), "before the objective starts"),
    ]:
        with pytest.raises(OutcomeError, match=message):
            _check_in(engine, org.manager_a, kr, value, confidence, on)
    with read_session(engine) as session:
        assert session.exec(select(CheckIn)).all() == []


def test_another_managers_team_is_refused_by_every_function(engine: Engine) -> None:
    org = _org(engine)
    theirs = _objective(engine, org.manager_b, [org.team_b], title="B's objective")
    kr = _key_result(engine, org.manager_b, theirs)
    intruder = org.manager_a
    with read_session(engine) as session:
        for call in (
            lambda: team_delivery(session=session, viewer=intruder, team_id=org.team_b, today=TODAY),
            lambda: team_objectives(session=session, viewer=intruder, team_id=org.team_b, today=TODAY),
            lambda: objective_view(session=session, viewer=intruder, objective_id=theirs, today=TODAY),
            lambda: key_results_due_update(
                session=session, viewer=intruder, today=TODAY, team_id=org.team_b
            ),
            lambda: team_actions(session=session, viewer=intruder, team_id=org.team_b),
        ):
            with pytest.raises(AccessDenied):
                call()
        # without naming a team, the weekly list holds only the viewer's own teams
        assert key_results_due_update(session=session, viewer=intruder, today=TODAY) == []
    writes = [
        lambda s: create_objective(
            session=s, viewer=intruder, title="x", starts_on=START, ends_on=END, team_ids=[org.team_b]
        ),
        lambda s: create_objective(  # sharing with a team you do not manage is refused too
            session=s,
            viewer=intruder,
            title="x",
            starts_on=START,
            ends_on=END,
            team_ids=[org.team_a, org.team_b],
        ),
        lambda s: update_objective(
            session=s,
            viewer=intruder,
            objective_id=theirs,
            title="mine now",
            starts_on=START,
            ends_on=END,
        ),
        lambda s: set_objective_closed(session=s, viewer=intruder, objective_id=theirs, closed=True),
        lambda s: override_status(
            session=s, viewer=intruder, objective_id=theirs, status_name="on_track", reason="r"
        ),
        lambda s: add_kr(
            session=s,
            viewer=intruder,
            objective_id=theirs,
            metric_name="m",
            baseline=0,
            target=1,
            direction="increase",
            due_date=END,
        ),
        lambda s: update_key_result(
            session=s,
            viewer=intruder,
            key_result_id=kr,
            metric_name="m",
            baseline=0,
            target=1,
            direction="increase",
            due_date=END,
        ),
        lambda s: record_check_in(
            session=s, viewer=intruder, key_result_id=kr, value=1, confidence=5, checked_on=TODAY
        ),
        lambda s: record_action(
            session=s, viewer=intruder, team_id=org.team_b, title="x", taken_on=TODAY
        ),
    ]
    for write in writes:
        with pytest.raises(AccessDenied), write_session(engine) as session:
            write(session)
    with read_session(engine) as session:
        objective = session.get(Objective, theirs)
        assert objective.title == "B's objective" and not objective.closed
        assert session.exec(select(CheckIn)).all() == []
        assert len(session.exec(select(Objective)).all()) == 1


def test_hr_reads_but_cannot_write_and_staff_get_nothing(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_b, [org.team_b])
    with read_session(engine) as session:
        delivery = team_delivery(session=session, viewer=org.hr, team_id=org.team_b, today=TODAY)
        assert [o.id for o in delivery.objectives] == [objective_id]
        with pytest.raises(AccessDenied):
            team_delivery(session=session, viewer=org.staff, team_id=org.team_a, today=TODAY)
    with pytest.raises(AccessDenied), write_session(engine) as session:
        set_objective_closed(session=session, viewer=org.hr, objective_id=objective_id, closed=True)


def test_shared_objective_shows_on_every_team_and_any_of_its_managers_may_update_it(
    engine: Engine,
) -> None:
    org = _org(engine)
    shared = _objective(engine, org.manager_a, [org.team_a, org.team_c], title="Shared")
    _objective(engine, org.manager_a, [org.team_c], title="C only")
    with read_session(engine) as session:
        on_a = team_objectives(session=session, viewer=org.manager_a, team_id=org.team_a, today=TODAY)
        on_c = team_objectives(session=session, viewer=org.manager_a, team_id=org.team_c, today=TODAY)
    assert [o.title for o in on_a] == ["Shared"]
    assert sorted(o.title for o in on_c) == ["C only", "Shared"]
    assert on_a[0].team_names == ("Team A", "Team C")
    kr = _key_result(engine, org.manager_a, shared)
    _check_in(engine, org.manager_a, kr, 70.0, 7, TODAY)


def test_override_needs_a_reason_and_is_audited(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    _key_result(engine, org.manager_a, objective_id)
    with pytest.raises(OutcomeError, match="Reason is required"), write_session(engine) as session:
        override_status(
            session=session,
            viewer=org.manager_a,
            objective_id=objective_id,
            status_name="on_track",
            reason=" ",
        )
    with write_session(engine) as session:
        override_status(
            session=session,
            viewer=org.manager_a,
            objective_id=objective_id,
            status_name="on_track",
            reason="Supplier contract signed; figures land next month",
        )
    with read_session(engine) as session:
        view = objective_view(
            session=session, viewer=org.manager_a, objective_id=objective_id, today=TODAY
        )
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "objective.status_override")
        ).all()
    assert view.computed_status.name == "off_track"
    assert view.status.name == "on_track" and view.status.overridden
    assert "Supplier contract signed" in view.status.explanation
    assert len(entries) == 1 and entries[0].actor == "ma@x.gov.uk"
    assert (
        "Supplier contract signed" in entries[0].detail
        and f"objective:{objective_id}" == entries[0].target
    )


def test_closed_objective_refuses_check_ins_and_leaves_the_weekly_list(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    kr = _key_result(engine, org.manager_a, objective_id)
    with read_session(engine) as session:
        due = key_results_due_update(session=session, viewer=org.manager_a, today=TODAY)
    assert [item.id for item in due] == [kr]
    with write_session(engine) as session:
        set_objective_closed(
            session=session, viewer=org.manager_a, objective_id=objective_id, closed=True
        )
    with pytest.raises(OutcomeError, match="closed"):
        _check_in(engine, org.manager_a, kr, 70.0, 8, TODAY)
    with read_session(engine) as session:
        assert key_results_due_update(session=session, viewer=org.manager_a, today=TODAY) == []


def test_weekly_list_holds_key_results_without_a_check_in_in_seven_days(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    fresh = _key_result(engine, org.manager_a, objective_id, metric_name="Fresh")
    stale = _key_result(engine, org.manager_a, objective_id, metric_name="Stale")
    never = _key_result(engine, org.manager_a, objective_id, metric_name="Never")
    _check_in(engine, org.manager_a, fresh, 65.0, 8, TODAY - timedelta(days=6))
    _check_in(engine, org.manager_a, stale, 65.0, 8, TODAY - timedelta(days=7))
    with read_session(engine) as session:
        due = key_results_due_update(session=session, viewer=org.manager_a, today=TODAY)
    assert sorted(item.id for item in due) == sorted([stale, never])


def test_losing_confidence_is_flagged(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    kr = _key_result(engine, org.manager_a, objective_id)
    _check_in(engine, org.manager_a, kr, 70.0, 8, TODAY - timedelta(days=8))
    _check_in(engine, org.manager_a, kr, 71.0, 5, TODAY - timedelta(days=1))
    with read_session(engine) as session:
        (objective,) = team_objectives(
            session=session, viewer=org.manager_a, team_id=org.team_a, today=TODAY
        )
    (view,) = objective.key_results
    assert view.losing_confidence and view.previous_confidence == 8 and view.latest_confidence == 5


def test_edit_objective_keeps_key_results_inside_the_period(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    _key_result(engine, org.manager_a, objective_id, due_date=END)
    with pytest.raises(OutcomeError, match="outside the new period"), write_session(engine) as session:
        update_objective(
            session=session,
            viewer=org.manager_a,
            objective_id=objective_id,
            title="New",
            starts_on=START,
            ends_on=END - timedelta(days=10),
        )
    with write_session(engine) as session:
        update_objective(
            session=session,
            viewer=org.manager_a,
            objective_id=objective_id,
            title="Renamed",
            starts_on=START,
            ends_on=END + timedelta(days=10),
        )
    with read_session(engine) as session:
        assert session.get(Objective, objective_id).title == "Renamed"


def test_actions_are_recorded_for_the_team(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    kr = _key_result(engine, org.manager_a, objective_id)
    with write_session(engine) as session:
        record_action(
            session=session,
            viewer=org.manager_a,
            team_id=org.team_a,
            title="Protect Friday focus time",
            trigger="Slipping key result",
            key_result_id=kr,
            taken_on=TODAY,
        )
    with pytest.raises(OutcomeError, match="does not belong"), write_session(engine) as session:
        record_action(
            session=session,
            viewer=org.manager_a,
            team_id=org.team_c,
            title="x",
            key_result_id=kr,
            taken_on=TODAY,
        )
    with read_session(engine) as session:
        actions = team_actions(session=session, viewer=org.manager_a, team_id=org.team_a)
        assert team_actions(session=session, viewer=org.manager_a, team_id=org.team_c) == []
    assert [(a.title, a.key_result_id, a.status) for a in actions] == [
        ("Protect Friday focus time", kr, "planned")
    ]
    with read_session(engine) as session:  # "you said, we did": the team's own staff see them
        seen_by_staff = team_actions(session=session, viewer=org.staff, team_id=org.team_a)
        assert [a.title for a in seen_by_staff] == ["Protect Friday focus time"]
        with pytest.raises(AccessDenied):
            team_actions(session=session, viewer=org.staff, team_id=org.team_b)


def test_delivery_features_for_strain_detection(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    kr = _key_result(engine, org.manager_a, objective_id)
    # confidence 8, 6, 4 over three consecutive weeks: -2 per week
    for weeks_ago, confidence in ((2, 8), (1, 6), (0, 4)):
        _check_in(engine, org.manager_a, kr, 65.0, confidence, TODAY - timedelta(weeks=weeks_ago))
    with read_session(engine) as session:
        features = delivery_features(
            session=session, team_ids=[org.team_a, org.team_b], today=TODAY, window_weeks=6
        ).set_index("team_id")
    expected_gap = 45 / 90 - key_result_progress(60, 80, "increase", 65.0)
    assert features.loc[org.team_a, "delivery_gap"] == pytest.approx(expected_gap)
    assert features.loc[org.team_a, "confidence_trend"] == pytest.approx(-2.0)
    assert math.isnan(features.loc[org.team_b, "delivery_gap"])
    assert math.isnan(features.loc[org.team_b, "confidence_trend"])


def test_export_has_every_objective_and_key_result(engine: Engine) -> None:
    org = _org(engine)
    first = _objective(engine, org.manager_a, [org.team_a], title="First")
    _objective(engine, org.manager_b, [org.team_b], title="Empty")
    kr = _key_result(engine, org.manager_a, first)
    _key_result(engine, org.manager_a, first, metric_name="Second")
    _check_in(engine, org.manager_a, kr, 70.0, 6, TODAY)
    with read_session(engine) as session:
        frame = export_rows(outcomes_export(session=session, today=TODAY))
    assert sorted(frame["objective"]) == ["Empty", "First", "First"]
    row = frame[frame["key_result_id"] == kr].iloc[0]
    assert row["latest_value"] == 70.0 and row["latest_confidence"] == 6
    assert row["key_result_progress"] == pytest.approx(0.5)
    assert row["key_result_status"] == "at_risk"  # confidence 6


def test_delivery_by_team_matches_the_dashboard_and_checks_access(engine: Engine) -> None:
    org = _org(engine)
    objective_id = _objective(engine, org.manager_a, [org.team_a])
    kr = _key_result(engine, org.manager_a, objective_id)
    _check_in(engine, org.manager_a, kr, 75.0, 8, TODAY)
    with read_session(engine) as session:
        dashboard = team_delivery(session=session, viewer=org.manager_a, team_id=org.team_a, today=TODAY)
        by_team = delivery_by_team(
            session=session, viewer=org.hr, team_ids=[org.team_a, org.team_b], today=TODAY
        )
        assert by_team[org.team_a] == pytest.approx(dashboard.delivery)
        assert by_team[org.team_b] is None
        with pytest.raises(AccessDenied):
            delivery_by_team(session=session, viewer=org.manager_a, team_ids=[org.team_b], today=TODAY)
