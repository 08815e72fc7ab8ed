"""The shared organisation-wide gate results (analytics.gate's decision cache), on SQLite and
PostgreSQL: a repeated team dashboard is served from the cache, and anything that can change a
decision (a new submission, people joining or leaving, a unit added or moved, a threshold setting
changed or replaced) is seen on the very next call. Staleness here would be a privacy leak, so each
test first shows that the change alters what a fresh computation releases, then that the call after
the change releases exactly that. Plus: on random organisations, every team's figures cut from a
warm shared result equal a fresh computation for that team alone.
"""

from __future__ import annotations

import tempfile
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_properties import WEEKS, RandomOrg, load, random_orgs
from test_gate_support import HR, add_people, add_unit, small_team_org

from analytics.gate import (
    PrivacyRules,
    clear_decision_cache,
    decision_cache_stats,
    team_figures,
    team_pattern_mix,
    team_response_rate,
    team_series,
)
from models.access import AccessDenied, Viewer
from models.org import Person, Unit
from models.org_settings import set_org_setting
from surveys.composition import get_composition
from surveys.submit import submit_pulse

RULES = PrivacyRules()
KEY = b"test-participation-key-for-the-gate-cache"
Dashboard = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


def dashboard(
    engine: Engine, team_id: int, *, start: str = "2026-W01", end: str = "2026-W06"
) -> Dashboard:
    """What the team dashboard asks the gate for, in a fresh read session."""
    with Session(engine) as session:
        common = {
            "session": session,
            "viewer": HR,
            "rules": RULES,
            "team_id": team_id,
            "start_week": start,
            "end_week": end,
        }
        return (
            team_series(**common, constructs=["wellbeing"]),
            team_pattern_mix(**common),
            team_response_rate(**common),
        )


def fresh(engine: Engine, team_id: int, **span: str) -> Dashboard:
    clear_decision_cache()
    return dashboard(engine, team_id, **span)


def equal(a: Dashboard, b: Dashboard) -> bool:
    return all(x.equals(y) for x, y in zip(a, b, strict=True))


def assert_same(a: Dashboard, b: Dashboard) -> None:
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)


@pytest.fixture
def org(engine: Engine) -> dict[str, int]:
    clear_decision_cache()
    with Session(engine) as session:
        return small_team_org(session)


def cached_before_change(engine: Engine, team_id: int) -> Dashboard:
    """The dashboard, computed once and then served from the shared result (proved by the hits)."""
    before = dashboard(engine, team_id)
    hits = decision_cache_stats()["hits"]
    again = dashboard(engine, team_id)
    assert decision_cache_stats()["hits"] == hits + 3  # series, mix and rate all shared
    assert_same(before, again)
    return before


def test_a_new_submission_is_seen_on_the_next_call(engine: Engine, org: dict[str, int]) -> None:
    before = cached_before_change(engine, org["three"])
    with Session(engine) as session:
        people = session.exec(select(Person.id).where(Person.team_id == org["three"])).all()
    composition = get_composition()
    for person_id in people:  # the 3-person team answers in full in week 6: 3 more responses
        answers = {item.id: item.scale.max for _, item in composition.items}
        submit_pulse(
            engine,
            person_id=person_id,
            team_id=org["three"],
            week="2026-W06",
            answers=answers,
            days_home=5,
            days_office=0,
            days_site=0,
            participation_key=KEY,
        )
    after = dashboard(engine, org["three"])
    expected = fresh(engine, org["three"])
    assert not equal(before, expected)  # the submission changes what is released
    assert_same(after, expected)
    week6 = [frame[0].set_index("week").loc["2026-W06"] for frame in (before, after)]
    assert [(row["basis"], row["n"]) for row in week6] == [("pooled over 4 weeks", 12)] + [
        ("pooled over 4 weeks", 15)
    ]


def test_people_joining_and_leaving_change_the_rate_at_once(engine: Engine, org: dict[str, int]) -> None:
    before = cached_before_change(engine, org["big"])
    with Session(engine) as session:
        people = session.exec(select(Person).where(Person.team_id == org["big"])).all()
        for person in people[:6]:
            person.active_to = date(2026, 1, 25)  # left at the end of 2026-W04
            session.add(person)
        joiner = session.get(Person, add_people(session, org["big"], 1, "joiner")[0])
        assert joiner is not None
        joiner.active_from = date(2026, 2, 2)  # joined in 2026-W06
        session.add(joiner)
        session.commit()
    after = dashboard(engine, org["big"])
    expected = fresh(engine, org["big"])
    assert not equal(before, expected)
    assert_same(after, expected)
    members = after[2].set_index("week")["members"].to_dict()
    assert members["2026-W04"] == 12 and members["2026-W05"] == 6 and members["2026-W06"] == 7


def test_a_unit_added_to_the_tree_is_seen_on_the_next_call(engine: Engine, org: dict[str, int]) -> None:
    before = cached_before_change(engine, org["three"])
    with Session(engine) as session:  # a service between the directorate and its teams
        service = add_unit(session, "svc", "service", org["directorate"], "Reablement Service")
        for team in ("big", "four", "three"):
            unit = session.get(Unit, org[team])
            assert unit is not None
            unit.parent_id = service
            session.add(unit)
        session.commit()
    after = dashboard(engine, org["three"])
    expected = fresh(engine, org["three"])
    assert not equal(before, expected)  # same responses, a different tree
    assert_same(after, expected)
    assert "rolled up into Reablement Service" in set(after[0]["basis"])


def test_a_team_moved_to_another_parent_is_seen_on_the_next_call(
    engine: Engine, org: dict[str, int]
) -> None:
    """Moving a neighbour changes the complementary suppression of a team that did not move."""
    before = cached_before_change(engine, org["three"])
    with Session(engine) as session:
        other = add_unit(session, "dir2", "directorate", org["org"], "Housing")
        unit = session.get(Unit, org["four"])
        assert unit is not None
        unit.parent_id = other
        session.add(unit)
        session.commit()
    after = dashboard(engine, org["three"])
    expected = fresh(engine, org["three"])
    assert not equal(before, expected)
    assert_same(after, expected)
    # the directorate now protects the moved 4-a-week team: the 3-a-week team rolls up further
    assert "rolled up into Council" in set(after[0]["basis"])


def test_a_threshold_change_and_its_replacement_are_seen_on_the_next_call(
    engine: Engine, org: dict[str, int]
) -> None:
    before = cached_before_change(engine, org["big"])
    with Session(engine) as session:
        set_org_setting(
            session,
            organisation_id=org["org"],
            key="min_group_size",
            value=12,
            actor="t",
            today=date(2026, 1, 7),
        )  # from 2026-W03: the 10-a-week team no longer shows single weeks
        session.commit()
    stricter = dashboard(engine, org["big"])
    expected = fresh(engine, org["big"])
    assert not equal(before, expected)
    assert_same(stricter, expected)
    assert stricter[0].set_index("week").loc["2026-W03", "basis"] != "team"
    with Session(engine) as session:  # changed again the same week: the row is replaced in place
        set_org_setting(
            session,
            organisation_id=org["org"],
            key="min_group_size",
            value=6,
            actor="t",
            today=date(2026, 1, 7),
        )
        session.commit()
    replaced = dashboard(engine, org["big"])
    expected = fresh(engine, org["big"])
    assert not equal(stricter, expected)
    assert_same(replaced, expected)


def test_another_database_never_shares_an_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two databases with the same tree and the same response counts but different answers."""
    from sqlmodel import SQLModel
    from test_gate_support import add_scores

    from models.db import make_engine

    clear_decision_cache()
    results = []
    for index, score in enumerate((40.0, 70.0)):
        engine = make_engine(f"sqlite:///{tmp_path / f'db{index}.db'}")
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            root = add_unit(session, "o", "organisation", None)
            team = add_unit(session, "t", "team", root)
            add_scores(session, team, "2026-W01", [score] * 6)
            session.commit()
        results.append(dashboard(engine, team, end="2026-W01")[0]["mean"].tolist())
        engine.dispose()
    assert results == [[40.0], [70.0]]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(org=random_orgs())
def test_figures_cut_from_a_shared_result_equal_a_fresh_computation(org: RandomOrg) -> None:
    rules = PrivacyRules(min_group_size=org.k, pooling_weeks=2)
    with tempfile.TemporaryDirectory() as directory:
        engine, ids = load(org, directory)
        try:
            teams = [ids[team] for team in org.teams()]

            def every_team() -> list[Dashboard]:
                found = []
                with Session(engine) as session:
                    for team_id in teams:
                        common = {
                            "session": session,
                            "viewer": HR,
                            "rules": rules,
                            "team_id": team_id,
                            "start_week": WEEKS[0],
                            "end_week": WEEKS[-1],
                        }
                        found.append(
                            (
                                team_series(**common),
                                team_pattern_mix(**common),
                                team_response_rate(**common),
                            )
                        )
                return found

            clear_decision_cache()
            shared = every_team()  # the first team computes; every other team is cut from it
            assert decision_cache_stats()["hits"] == 3 * (len(teams) - 1)
            for team_index, team_id in enumerate(teams):
                clear_decision_cache()
                with Session(engine) as session:
                    common = {
                        "session": session,
                        "viewer": HR,
                        "rules": rules,
                        "team_id": team_id,
                        "start_week": WEEKS[0],
                        "end_week": WEEKS[-1],
                    }
                    alone = (
                        team_series(**common),
                        team_pattern_mix(**common),
                        team_response_rate(**common),
                    )
                assert_same(shared[team_index], alone)
        finally:
            engine.dispose()  # type: ignore[attr-defined]


def test_team_figures_in_one_call_equal_the_three_calls_and_check_access(
    engine: Engine, org: dict[str, int]
) -> None:
    """What the dashboard asks for in one call (tree and fingerprint read once) is exactly what the
    three functions release, and a manager of another team gets nothing from it either."""
    expected = fresh(engine, org["three"])
    span = {"start_week": "2026-W01", "end_week": "2026-W06"}
    with Session(engine) as session:
        figures = team_figures(
            session=session,
            viewer=HR,
            rules=RULES,
            team_id=org["three"],
            constructs=["wellbeing"],
            **span,
        )
        assert_same((figures.series, figures.mix, figures.rates), expected)
        other_manager = Viewer(
            email="m@x",
            display_name="M",
            person_id=None,
            team_id=None,
            roles=frozenset({"manager"}),
            managed_unit_ids=frozenset({org["big"]}),
        )
        with pytest.raises(AccessDenied):
            team_figures(
                session=session, viewer=other_manager, rules=RULES, team_id=org["three"], **span
            )
