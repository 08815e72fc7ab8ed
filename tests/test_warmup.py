"""The dashboard warmer (app/warmup.py): after a round, a manager's first dashboard call is served
from the shared results and equals a fresh computation; a change in the data behind the range is
recomputed by the next round; the comment-scrubbing name index is built by the warmer, not by a
submitter, and rebuilt before it expires; a failing round is logged and the thread carries on
(both backends).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_cache import RULES, assert_same, dashboard, fresh
from test_gate_support import small_team_org

import surveys.submit as submit_module
from analytics.gate import clear_decision_cache, decision_cache_stats
from app.warmup import DashboardWarmer, dashboard_weeks, warm_dashboards
from models.db import make_engine
from models.org import Person
from surveys.composition import get_composition
from surveys.submit import NAME_INDEX_MAX_AGE_SECONDS, refresh_name_index, submit_pulse

KEY = b"test-participation-key-for-the-warmer"
# small_team_org holds answers for 2026-W01..W06: the dashboard of a Wednesday in week 7 shows
# the 12 weeks ending with week 6.
TODAY = date(2026, 2, 11)
START, END = dashboard_weeks(TODAY)


@pytest.fixture
def org(engine: Engine) -> dict[str, int]:
    clear_decision_cache()
    with Session(engine) as session:
        return small_team_org(session)


def test_dashboard_range_is_the_last_twelve_complete_weeks() -> None:
    assert (START, END) == ("2025-W47", "2026-W06")
    assert dashboard_weeks(date(2026, 2, 16)) == ("2025-W48", "2026-W07")  # Monday: a new week


def test_after_warming_the_first_dashboard_call_is_shared_and_correct(
    engine: Engine, org: dict[str, int]
) -> None:
    expected = fresh(engine, org["three"], start=START, end=END)
    clear_decision_cache()
    assert warm_dashboards(engine, RULES, TODAY) == 3  # series, mix and rate of the organisation
    assert warm_dashboards(engine, RULES, TODAY) == 0  # nothing changed: nothing recomputed
    stats = decision_cache_stats()
    first = dashboard(engine, org["three"], start=START, end=END)
    assert decision_cache_stats()["hits"] == stats["hits"] + 3
    assert decision_cache_stats()["misses"] == stats["misses"]
    assert_same(first, expected)


def test_a_change_behind_the_range_is_recomputed_by_the_next_round(
    engine: Engine, org: dict[str, int]
) -> None:
    warm_dashboards(engine, RULES, TODAY)
    with Session(engine) as session:
        people = session.exec(select(Person.id).where(Person.team_id == org["three"])).all()
    composition = get_composition()
    for person_id in people:  # a late answer in the last week shown
        submit_pulse(
            engine,
            person_id=person_id,
            team_id=org["three"],
            week=END,
            answers={item.id: item.scale.max for _, item in composition.items},
            participation_key=KEY,
        )
    assert warm_dashboards(engine, RULES, TODAY) == 3
    stats = decision_cache_stats()
    after = dashboard(engine, org["three"], start=START, end=END)
    assert decision_cache_stats()["misses"] == stats["misses"]  # served from the new round
    assert_same(after, fresh(engine, org["three"], start=START, end=END))


def test_the_thread_warms_at_once_and_survives_a_failing_round(
    engine: Engine, org: dict[str, int], tmp_path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    del org
    clear_decision_cache()
    warmer = DashboardWarmer(engine, RULES, interval=3600, today=lambda: TODAY)
    warmer.start()
    try:
        assert warmer.ready.wait(30)
        assert decision_cache_stats()["entries"] == 3
    finally:
        warmer.stop()
        warmer.join(10)
    assert not warmer.is_alive()

    broken = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    failing = DashboardWarmer(broken, RULES, interval=0.05, today=lambda: TODAY)
    with caplog.at_level(logging.ERROR, logger="app.warmup"):
        failing.start()
        try:
            assert failing.ready.wait(30)
            deadline = failing.rounds + 2
            for _ in range(200):
                if failing.rounds >= deadline:
                    break
                failing._stop_requested.wait(0.05)
            assert failing.rounds >= deadline and failing.is_alive()  # it carried on
        finally:
            failing.stop()
            failing.join(10)
            broken.dispose()
    assert "warming the dashboards failed" in caplog.text


@pytest.fixture
def index_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many names each full build of the name index took in (none cached at the start)."""
    monkeypatch.setattr(submit_module, "_name_indexes", {})
    builds: list[int] = []
    real = submit_module.build_name_index

    def counted(names):  # type: ignore[no-untyped-def]
        names = list(names)
        builds.append(len(names))
        return real(names)

    monkeypatch.setattr(submit_module, "build_name_index", counted)
    return builds


def test_a_warmer_round_builds_the_name_index_so_no_submitter_does(
    engine: Engine, org: dict[str, int], index_builds: list[int]
) -> None:
    """At 21,000 people a build holds the interpreter lock for 160 ms: done by the first commented
    submission, it made that process's first burst of 200 submitters wait (p95 140 ms, not 47)."""
    with Session(engine) as session:
        session.add(Person(email="zq@council.test", display_name="Zelda Quince", team_id=org["big"]))
        session.commit()
        people = session.exec(select(Person.id).where(Person.team_id == org["big"])).all()
    warmer = DashboardWarmer(engine, RULES, interval=3600, today=lambda: TODAY)
    warmer.start()
    try:
        assert warmer.ready.wait(30)
    finally:
        warmer.stop()
        warmer.join(10)
    assert index_builds == [20]  # 12 + 4 + 3 people, and Zelda
    composition = get_composition()
    result = submit_pulse(
        engine,
        person_id=people[0],
        team_id=org["big"],
        week=END,
        answers={item.id: item.scale.max for _, item in composition.items},
        comment="Zelda Quince covered for me",
        participation_key=KEY,
    )
    assert result.comment_stored == "[name removed] covered for me"
    assert index_builds == [20]  # the submission used the warmed index


def test_the_name_index_is_rebuilt_before_it_expires_and_kept_while_young(
    engine: Engine, org: dict[str, int], index_builds: list[int]
) -> None:
    del org
    refresh_name_index(engine, due_within_seconds=120)
    refresh_name_index(engine, due_within_seconds=120)  # young: kept
    assert len(index_builds) == 1
    (database,) = submit_module._name_indexes
    cached = submit_module._name_indexes[database]
    aged = dataclasses.replace(cached, built_at=time.monotonic() - NAME_INDEX_MAX_AGE_SECONDS + 60)
    submit_module._name_indexes[database] = aged
    refresh_name_index(engine, due_within_seconds=0)  # a minute left: kept
    assert len(index_builds) == 1
    refresh_name_index(engine, due_within_seconds=120)  # due within two rounds: rebuilt now
    assert len(index_builds) == 2
    assert time.monotonic() - submit_module._name_indexes[database].built_at < 60
