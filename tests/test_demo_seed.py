"""The demo council: deterministic, realistic in shape, with planted strained teams that show."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, func, select
from typer.testing import CliRunner

from app.cli import cli
from models.base import iso_week
from models.db import make_engine, read_session
from models.migrate import upgrade_to_head
from models.org import Person, RoleGrant, Unit
from models.outcomes import CheckIn, KeyResult, Objective, ObjectiveTeam
from models.pulse import ParticipationReceipt, PulseResponse, TeamWeekResponses
from surveys.demo import DemoError, DemoSummary, demo_weeks, plan_demo, seed_demo

TODAY = date(2026, 11, 26)  # a Thursday in 2026-W48
KEY = b"test-participation-key-of-32-bytes!!"


def test_plan_is_a_realistic_council_and_deterministic_by_seed() -> None:
    for seed in (1, 2, 3, 4, 5):
        plan = plan_demo(seed)
        assert plan == plan_demo(seed)
        sizes = Counter(p.team_code for p in plan.people if p.team_code)
        directorates = [code for code, _, parent in plan.units if parent == plan.organisation_code]
        assert len(directorates) == 5
        assert 50 <= len(plan.teams) <= 70
        assert 600 <= len(plan.people) <= 900
        assert min(sizes.values()) >= 3 and max(sizes.values()) <= 25
        assert sum(1 for n in sizes.values() if n < 5) >= 2, "some teams too small to report alone"
        emails = [p.email for p in plan.people]
        assert len(set(emails)) == len(emails)
        assert all(e.endswith("@" + plan.domain) and "." in e.split("@")[0] for e in emails)
        manager_roles = [r for p in plan.people for r in p.roles if r.startswith("manager:")]
        managed = Counter(r.split(":")[1] for r in manager_roles)
        team_codes = {t.code for t in plan.teams}
        assert team_codes <= set(managed), "every team has a manager"
        per_manager = [sum(r.partition(":")[2] in team_codes for r in p.roles) for p in plan.people]
        assert max(per_manager) == 2, "some managers look after two teams"
        assert len(set(managed) - team_codes) == 1, "one directorate head"
        assert 2 <= sum("hr" in p.roles for p in plan.people) <= 3
        assert 1 <= sum("admin" in p.roles for p in plan.people) <= 2
        assert 3 <= len(plan.strained_team_codes) <= max(3, round(0.09 * len(plan.teams)))
        assert all(sizes[code] >= 8 for code in plan.strained_team_codes)
    assert plan_demo(1).people != plan_demo(2).people


def test_weeks_end_last_week_leaving_this_week_open() -> None:
    weeks = demo_weeks(26, TODAY)
    assert len(weeks) == 26 and weeks[-1] == "2026-W47" and iso_week(TODAY) == "2026-W48"
    assert weeks == sorted(weeks)
    assert weeks[0] == iso_week(TODAY - timedelta(weeks=26))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    """The full demo (seed 1) on SQLite, once for the module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    messages: list[str] = []
    summary = seed_demo(engine, participation_key=KEY, seed=1, today=TODAY, progress=messages.append)
    assert any("Week 2026-W47" in m for m in messages), "progress is reported week by week"
    yield engine, summary
    engine.dispose()


def test_seeded_counts_match_the_plan(seeded: tuple[Engine, DemoSummary]) -> None:
    engine, summary = seeded
    plan = plan_demo(1)
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(Unit)).one() == len(plan.units)
        assert session.exec(select(func.count()).select_from(Person)).one() == len(plan.people)
        responses = session.exec(select(func.count()).select_from(PulseResponse)).one()
        receipts = session.exec(  # the week's: one per answer (longer periods' once per person)
            select(func.count()).where(col(ParticipationReceipt.period).like("%-W%"))
        ).one()
        counted = session.exec(select(func.sum(TeamWeekResponses.n))).one()
        weeks = set(session.exec(select(PulseResponse.week).distinct()).all())
        live = session.exec(select(Objective).where(Objective.closed == False)).all()  # noqa: E712
        per_objective = Counter(session.exec(select(KeyResult.objective_id)).all())
    assert summary.strained_team_codes == plan.strained_team_codes
    assert responses == receipts == counted == summary.responses
    assert weeks == set(demo_weeks(26, TODAY)), "26 weeks, the current week left unanswered"
    assert 0.6 <= summary.response_rate <= 0.8
    assert len(live) == len(plan.teams)
    assert set(per_objective.values()) <= {2, 3}


def _icc1(groups: list[list[float]]) -> float:
    """ICC(1) from a one-way ANOVA with n-bar = N/k (as for the bh1996 figure)."""
    arrays = [np.asarray(g) for g in groups if len(g) > 0]
    total, k = sum(len(a) for a in arrays), len(arrays)
    grand = np.concatenate(arrays).mean()
    ms_between = sum(len(a) * (a.mean() - grand) ** 2 for a in arrays) / (k - 1)
    ms_within = sum(((a - a.mean()) ** 2).sum() for a in arrays) / (total - k)
    n_bar = total / k
    return float((ms_between - ms_within) / (ms_between + (n_bar - 1) * ms_within))


def _scores(engine: Engine, construct: str) -> list[tuple[str, int, float]]:
    with read_session(engine) as session:
        rows = session.exec(select(PulseResponse.week, PulseResponse.team_id, PulseResponse.scores))
        return [(week, team, scores[construct]) for week, team, scores in rows if construct in scores]


def test_between_team_share_of_wellbeing_variance_is_near_bh1996(
    seeded: tuple[Engine, DemoSummary],
) -> None:
    engine, _ = seeded
    by_week: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for week, team_id, score in _scores(engine, "wellbeing"):
        by_week[week][team_id].append(score)
    weekly = [_icc1(list(teams.values())) for teams in by_week.values()]
    # bh1996 WBEING: 0.0434. Weekly cross-sections of the demo should sit near it.
    assert 0.02 <= statistics.median(weekly) <= 0.10
    scores = [score for _, _, score in _scores(engine, "wellbeing")]
    assert 45 <= statistics.mean(scores) <= 70 and 12 <= statistics.pstdev(scores) <= 28


def _team_means(engine: Engine, construct: str, weeks: list[str]) -> dict[int, float]:
    wanted = set(weeks)
    sums: dict[int, list[float]] = defaultdict(list)
    for week, team_id, score in _scores(engine, construct):
        if week in wanted:
            sums[team_id].append(score)
    return {team: float(np.mean(values)) for team, values in sums.items()}


def test_each_planted_pattern_shows_only_where_it_was_planted(
    seeded: tuple[Engine, DemoSummary],
) -> None:
    """Partial patterns: a kind that moves wellbeing (or demands) moves it in its team beyond what
    the other teams show; delivery-only strain stalls key results and leaves the pulse alone."""
    engine, summary = seeded
    weeks = demo_weeks(26, TODAY)
    plan = plan_demo(1)
    with read_session(engine) as session:
        ids = dict(session.exec(select(Unit.code, Unit.id)).all())
    kind = {ids[p.team]: p.kind for p in plan.plants}
    strained = {ids[code] for code in summary.strained_team_codes}
    sizes = Counter(p.team_code for p in plan.people if p.team_code)
    comparable = {ids[code] for code, size in sizes.items() if size >= 8}
    moved = {
        "wellbeing": ("wellbeing", "overloaded", "disengaged"),
        "demands": ("demands", "overloaded"),
    }
    for construct, drop in (("wellbeing", 6.0), ("demands", 0.25)):
        before, after = (
            _team_means(engine, construct, weeks[:12]),
            _team_means(engine, construct, weeks[-4:]),
        )
        change = {team: after[team] - before[team] for team in comparable | strained}
        # Seasons move every team; strain is a fall beyond what the other teams show.
        typical = float(np.median([c for t, c in change.items() if t not in strained]))
        hit = [t for t in strained if kind[t] in moved[construct]]
        assert all(change[t] - typical < -drop for t in hit), f"{construct} falls where planted"
        others = [c - typical for t, c in change.items() if t not in strained]
        assert sum(c < -drop for c in others) <= 0.15 * len(others), f"{construct} falls in few others"

    last_friday = date(2026, 11, 20)
    with read_session(engine) as session:
        rows = session.exec(
            select(ObjectiveTeam.team_id, CheckIn.checked_on, CheckIn.confidence)
            .join(KeyResult, KeyResult.objective_id == ObjectiveTeam.objective_id)
            .join(CheckIn, CheckIn.key_result_id == KeyResult.id)
            .join(Objective, Objective.id == ObjectiveTeam.objective_id)
            .where(Objective.closed == False)  # noqa: E712
        ).all()
    latest: dict[int, list[int]] = defaultdict(list)
    for team_id, checked_on, confidence in rows:
        if checked_on == last_friday:
            latest[team_id].append(confidence)
    typical = statistics.median(np.mean(v) for t, v in latest.items() if kind[t] != "delivery")
    delivery = [t for t in strained if kind[t] == "delivery"]
    assert all(np.mean(latest[t]) < typical - 2 for t in delivery), "confidence falls where planted"


def test_no_strain_plants_nothing_and_plans_are_deterministic() -> None:
    quiet = plan_demo(7, 60, no_strain=True)
    assert quiet.strained_team_codes == () and {p.kind for p in quiet.plants} == {"none"}
    assert [p.email for p in quiet.people] == [p.email for p in plan_demo(7, 60).people]
    kinds = {p.kind for p in plan_demo(7, 60).plants}
    assert {"delivery", "mild decline"} <= kinds and len(kinds - {"none"}) >= 5


def test_seeding_refuses_a_database_that_already_has_an_organisation(
    seeded: tuple[Engine, DemoSummary],
) -> None:
    engine, _ = seeded
    with pytest.raises(DemoError, match="already has an organisation"):
        seed_demo(engine, participation_key=KEY, seed=2, today=TODAY)


def _empty_database(url: str) -> None:
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    tables = {
        "units": Unit,
        "people": Person,
        "grants": RoleGrant,
        "responses": PulseResponse,
        "receipts": ParticipationReceipt,
        "objectives": Objective,
        "key results": KeyResult,
        "check-ins": CheckIn,
    }
    with read_session(engine) as session:
        counts = {
            name: session.exec(select(func.count()).select_from(t)).one() for name, t in tables.items()
        }
    engine.dispose()
    return counts


@pytest.mark.postgres
def test_cli_builds_the_same_demo_on_sqlite_and_postgresql(
    postgres_server_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    results = []
    for url in (f"sqlite:///{tmp_path / 'demo.db'}", postgres_server_url):
        _empty_database(url)
        init = runner.invoke(cli, ["init-db", "--database-url", url])
        assert init.exit_code == 0, init.output
        seed = runner.invoke(
            cli, ["seed-demo", "--seed", "1", "--teams", "12", "--weeks", "6", "--database-url", url]
        )
        assert seed.exit_code == 0, seed.output
        assert "Week" in seed.output and "planted strained teams" in seed.output
        results.append(_counts(url))
    assert results[0] == results[1]
    assert results[0]["responses"] > 0 and results[0]["check-ins"] > 0


def test_cli_until_fixes_the_weeks_and_no_strain_plants_nothing(tmp_path: Path) -> None:
    """Same arguments, same council: --until pins the last week whatever today is; --no-strain
    builds the council too, and demo-plan says nothing is planted in it."""
    runner = CliRunner()
    counts = []
    for name, extra in (("a", []), ("b", []), ("quiet", ["--no-strain"])):
        url = f"sqlite:///{tmp_path / name}.db"
        assert runner.invoke(cli, ["init-db", "--database-url", url]).exit_code == 0
        args = ["seed-demo", "--seed", "3", "--teams", "10", "--weeks", "5", "--until", "2026-W40"]
        seed = runner.invoke(cli, [*args, *extra, "--database-url", url])
        assert seed.exit_code == 0, seed.output
        assert "2026-W36..2026-W40" in seed.output
        counts.append(_counts(url))
    assert counts[0] == counts[1]
    plan = runner.invoke(
        cli, ["demo-plan", "--seed", "3", "--teams", "10", "--no-strain", "--format", "json"]
    )
    assert not any(team["planted"] for team in json.loads(plan.stdout)["teams"])
