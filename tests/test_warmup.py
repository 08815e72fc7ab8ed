"""The server's background thread (app/warmup.py): it releases closed periods as they fall due
(once: a later round releases nothing twice), keeps going after a failing round, and builds the
comment-scrubbing name index before a submitter needs it (both backends).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_gate_support import small_team_org

import surveys.name_cache as name_cache
from analytics.privacy import PrivacyRules, ReleaseSchedule
from app.warmup import DashboardWarmer, release_what_is_due
from models.db import make_engine
from models.org import Person
from models.releases import PeriodRelease, ReleasedFigure
from surveys.composition import get_composition
from surveys.name_cache import NAME_INDEX_MAX_AGE_SECONDS, refresh_name_index
from surveys.submit import submit_pulse

KEY = b"test-participation-key-for-the-warmer"
RULES = PrivacyRules()
SCHEDULE = ReleaseSchedule(grace_days=2, time_zone="Europe/London")
# small_team_org holds answers for 2026-W01..W06 (29 December 2025 to 8 February 2026).
WEDNESDAY_OF_WEEK_7 = datetime(2026, 2, 11, 12, tzinfo=UTC)
END = "2026-W06"


@pytest.fixture
def org(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return small_team_org(session)


def _released(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.exec(select(PeriodRelease.period)).all())


def test_a_round_releases_what_has_fallen_due_and_a_later_round_nothing_again(
    engine: Engine, org: dict[str, int]
) -> None:
    del org
    # Tuesday of week 7: week 6 closed on Sunday but is still inside its two days of grace.
    tuesday = datetime(2026, 2, 10, 12, tzinfo=UTC)
    assert release_what_is_due(engine, RULES, SCHEDULE, tuesday) == 6  # W01-W05, January
    assert "2026-W06" not in _released(engine)
    assert release_what_is_due(engine, RULES, SCHEDULE, WEDNESDAY_OF_WEEK_7) == 1
    with Session(engine) as session:
        cells = len(session.exec(select(ReleasedFigure)).all())
    assert release_what_is_due(engine, RULES, SCHEDULE, WEDNESDAY_OF_WEEK_7) == 0
    with Session(engine) as session:
        assert len(session.exec(select(ReleasedFigure)).all()) == cells
    assert _released(engine) == ["2026-01", *[f"2026-W0{w}" for w in range(1, 7)]]


def test_the_thread_releases_at_once_and_survives_a_failing_round(
    engine: Engine, org: dict[str, int], tmp_path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    del org
    warmer = DashboardWarmer(
        engine, RULES, schedule=SCHEDULE, interval=3600, now=lambda: WEDNESDAY_OF_WEEK_7
    )
    warmer.start()
    try:
        assert warmer.ready.wait(60)
        assert END in _released(engine)
    finally:
        warmer.stop()
        warmer.join(10)
    assert not warmer.is_alive()

    broken = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    failing = DashboardWarmer(
        broken, RULES, schedule=SCHEDULE, interval=0.05, now=lambda: WEDNESDAY_OF_WEEK_7
    )
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
    assert "warming the releases failed" in caplog.text


@pytest.fixture
def index_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many names each full build of the name index took in (none cached at the start)."""
    monkeypatch.setattr(name_cache, "_name_indexes", {})
    builds: list[int] = []
    real = name_cache.build_name_index

    def counted(names):  # type: ignore[no-untyped-def]
        names = list(names)
        builds.append(len(names))
        return real(names)

    monkeypatch.setattr(name_cache, "build_name_index", counted)
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
    warmer = DashboardWarmer(
        engine, RULES, schedule=SCHEDULE, interval=3600, now=lambda: WEDNESDAY_OF_WEEK_7
    )
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
        week="2026-W07",  # still open: a released week takes no answers
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
    (database,) = name_cache._name_indexes
    cached = name_cache._name_indexes[database]
    aged = dataclasses.replace(cached, built_at=time.monotonic() - NAME_INDEX_MAX_AGE_SECONDS + 60)
    name_cache._name_indexes[database] = aged
    refresh_name_index(engine, due_within_seconds=0)  # a minute left: kept
    assert len(index_builds) == 1
    refresh_name_index(engine, due_within_seconds=120)  # due within two rounds: rebuilt now
    assert len(index_builds) == 2
    assert time.monotonic() - name_cache._name_indexes[database].built_at < 60
