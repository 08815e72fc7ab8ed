"""The benchmark's synthetic organisation: the plan, the structure and the answers.

The plan says how big, which weeks, which teams are small or strained (deterministic from the
seed); the structure is the units, people, roles, periods and objectives, created by plain inserts;
the answers come one chunk per (week, block of teams), each from its own seeded generator, for
``app.bench_build`` to bulk-load. Also what a complete earlier build holds (``inspect_database``,
``load_org``), so that a run can reuse it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.base import iso_week, week_monday
from models.db import read_session, write_session
from models.org import Person, RoleGrant, Unit
from models.outcomes import CheckIn, KeyResult, Objective, ObjectiveTeam
from models.pulse import PulsePeriod, PulseResponse

PEOPLE_PER_TEAM = 20
WEEKS = 52
DEFAULT_RESPONSES = 1_000 * PEOPLE_PER_TEAM * WEEKS  # 1,000 teams x 20 people x 52 weeks
LAST_WEEK = "2026-W47"  # fixed, so a build can be reused and runs compare
RESPONSE_PROBABILITY = 0.96  # partial response, as in real pulses
SMALL_TEAM_EVERY, SMALL_TEAM_OFFSET, SMALL_TEAM_SIZE = 25, 7, 4  # some teams need pooling
STRAINED_TEAM_EVERY, STRAINED_TEAM_OFFSET = 33, 5  # planted strain in the last 10 weeks
TEAMS_PER_SERVICE, SERVICES_PER_DIRECTORATE = 10, 10
TEAMS_PER_CHUNK = 250  # one chunk = one week x 250 teams (about 4,800 responses)
ROOT_CODE_PREFIX = "bench-org-"
LOADING_NAME = "Benchmark council (synthetic; loading)"
COMPLETE_NAME = "Benchmark council (synthetic)"  # renamed once every chunk is in: reusable
HR_EMAIL = "bench-hr@bench.invalid"
MANAGER_EMAIL = "bench-manager@bench.invalid"
COMMENTS = (
    "Workload has been heavy this week.",
    "Good support from the team.",
    "Too many meetings on Tuesday.",
    "Training day was useful.",
    "Short-staffed on the front desk again.",
    "Ask me at someone@example.org about the rota.",  # scrubbed before storing, as in a real pulse
)


class BenchError(RuntimeError):
    """The benchmark cannot run against this database; the message says why and what to do."""


# --------------------------------------------------------------------------------------------
# The plan: how big, which weeks, which teams are small or strained. Deterministic from the seed.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchPlan:
    teams: int
    people_per_team: int = PEOPLE_PER_TEAM
    weeks: int = WEEKS
    last_week: str = LAST_WEEK
    seed: int = 20261126

    @classmethod
    def for_responses(cls, responses: int, people_per_team: int = PEOPLE_PER_TEAM) -> BenchPlan:
        """The plan whose full-response size is closest to ``responses`` (52 weeks). Fewer people
        per team make fewer responses for the same teams x weeks: what memory and the dashboards
        should depend on, not the response count."""
        if responses < 1:
            raise BenchError("--responses must be at least 1")
        if people_per_team <= SMALL_TEAM_SIZE:
            raise BenchError(f"--people-per-team must be more than {SMALL_TEAM_SIZE}")
        teams = max(2, round(responses / (people_per_team * WEEKS)))
        return cls(teams=teams, people_per_team=people_per_team)

    @property
    def default_file_name(self) -> str:
        """The SQLite file used without ``--database-url`` (one per plan size)."""
        if self.people_per_team == PEOPLE_PER_TEAM:
            return f"bench-{self.teams}-teams.db"
        return f"bench-{self.teams}-teams-{self.people_per_team}-people.db"

    @property
    def code(self) -> str:
        return f"{ROOT_CODE_PREFIX}{self.teams}x{self.people_per_team}x{self.weeks}-{self.last_week}"

    @property
    def week_labels(self) -> list[str]:
        last = week_monday(self.last_week)
        return [iso_week(last - timedelta(weeks=back)) for back in range(self.weeks - 1, -1, -1)]

    @property
    def first_week(self) -> str:
        return self.week_labels[0]

    @property
    def submit_week(self) -> str:
        """The week the concurrent submitters answer: after the measured range, so reruns compare."""
        return iso_week(week_monday(self.last_week) + timedelta(weeks=1))

    @property
    def today(self) -> date:
        """The 'today' the dashboards and strain detection are asked about (end of the range)."""
        return week_monday(self.last_week) + timedelta(days=6)

    def team_size(self, team_index: int) -> int:
        small = team_index % SMALL_TEAM_EVERY == SMALL_TEAM_OFFSET
        return SMALL_TEAM_SIZE if small else self.people_per_team

    def is_strained(self, team_index: int) -> bool:
        return team_index % STRAINED_TEAM_EVERY == STRAINED_TEAM_OFFSET


# --------------------------------------------------------------------------------------------
# The synthetic organisation: structure, people, periods, outcomes.
# --------------------------------------------------------------------------------------------


@dataclass
class BenchOrg:
    """Ids of what the build created, in plan order."""

    root_id: int
    team_ids: list[int]
    person_ids: list[list[int]]  # per team, its members
    hr_email: str = HR_EMAIL
    manager_email: str = MANAGER_EMAIL


def _bench_roots(session: Session) -> list[Unit]:
    return list(session.exec(select(Unit).where(Unit.parent_id.is_(None))).all())


def inspect_database(engine: Engine, plan: BenchPlan) -> str:
    """``"empty"``, ``"complete"`` (this plan was built before: reuse it) or raise BenchError."""
    with read_session(engine) as session:
        roots = _bench_roots(session)
        if not roots:
            has_rows = session.exec(select(func.count()).select_from(PulseResponse)).one()
            if has_rows:
                raise BenchError(
                    "this database holds pulse responses but no organisation; use a fresh one"
                )
            return "empty"
        if len(roots) == 1 and roots[0].code == plan.code:
            if roots[0].name == COMPLETE_NAME:
                return "complete"
            raise BenchError(
                "this database holds an interrupted benchmark build; delete it (or drop the database) "
                "and run again"
            )
        codes = ", ".join(sorted(root.code for root in roots))
        raise BenchError(
            f"this database already holds other data (organisations: {codes}); the benchmark needs "
            "an empty database or one with the same benchmark size. Pass --database-url to a fresh one."
        )


def member_email(team: int, member: int) -> str:
    """The address of a synthetic team's member (both counted from 0): one rule for writing the
    people and finding them again."""
    return f"bench-{team + 1:05d}-{member + 1:02d}@bench.invalid"


def _add_units(
    session: Session, kind: str, prefix: str, digits: int, count: int, parent_of: Callable[[int], Any]
) -> list[Unit]:
    """``count`` units of one level ("Directorate 1", code ``bench-d001``...), each under the
    parent ``parent_of(i)`` names, written and flushed so their ids exist."""
    units = [
        Unit(
            code=f"{prefix}{i + 1:0{digits}d}",
            name=f"{kind.capitalize()} {i + 1}",
            kind=kind,
            parent_id=parent_of(i),
        )
        for i in range(count)
    ]
    session.add_all(units)
    session.flush()
    return units


def create_structure(engine: Engine, plan: BenchPlan) -> BenchOrg:
    """Units, people, managers, HR, periods and a few objectives per team (small; plain inserts)."""
    with write_session(engine) as session:
        root = Unit(code=plan.code, name=LOADING_NAME, kind="organisation")
        session.add(root)
        session.flush()
        services_needed = math.ceil(plan.teams / TEAMS_PER_SERVICE)
        directorates = _add_units(
            session,
            "directorate",
            "bench-d",
            3,
            math.ceil(services_needed / SERVICES_PER_DIRECTORATE),
            lambda d: root.id,
        )
        services = _add_units(
            session,
            "service",
            "bench-s",
            4,
            services_needed,
            lambda s: directorates[s // SERVICES_PER_DIRECTORATE].id,
        )
        teams = _add_units(
            session, "team", "bench-t", 5, plan.teams, lambda t: services[t // TEAMS_PER_SERVICE].id
        )
        team_ids = [int(team.id) for team in teams]  # type: ignore[arg-type]

        people = [
            {
                "email": member_email(t, p),
                "display_name": f"Member {p + 1} of team {t + 1}",
                "team_id": team_ids[t],
            }
            for t in range(plan.teams)
            for p in range(plan.team_size(t))
        ]
        people.append({"email": HR_EMAIL, "display_name": "Bench HR", "team_id": None})
        people.append({"email": MANAGER_EMAIL, "display_name": "Bench manager", "team_id": None})
        session.execute(insert(Person), people)
        ids_by_email = dict(
            session.execute(select(Person.email, Person.id).where(Person.email.like("bench-%"))).all()
        )
        person_ids = [
            [ids_by_email[member_email(t, p)] for p in range(plan.team_size(t))]
            for t in range(plan.teams)
        ]
        session.execute(
            insert(RoleGrant),
            [
                {"person_id": ids_by_email[HR_EMAIL], "role": "hr", "unit_id": None},
                {
                    "person_id": ids_by_email[MANAGER_EMAIL],
                    "role": "manager",
                    "unit_id": team_ids[0],
                },
            ],
        )
        weeks = [*plan.week_labels, plan.submit_week]
        existing = set(session.execute(select(PulsePeriod.week)).scalars())
        session.execute(
            insert(PulsePeriod),
            [
                {"week": w, "starts_on": week_monday(w), "ends_on": week_monday(w) + timedelta(days=6)}
                for w in weeks
                if w not in existing
            ],
        )
        _create_objectives(session, plan, team_ids)
        return BenchOrg(
            root_id=int(root.id),  # type: ignore[arg-type]
            team_ids=team_ids,
            person_ids=person_ids,
        )


def _create_objectives(session: Session, plan: BenchPlan, team_ids: list[int]) -> None:
    """Two objectives per team for the current quarter, two key results each, fortnightly check-ins."""
    ends_on = plan.today + timedelta(days=35)
    starts_on = ends_on - timedelta(days=91)
    rng = np.random.default_rng([plan.seed, 9])
    session.execute(
        insert(Objective),
        [
            {"title": f"Objective {o + 1} of team {t + 1}", "starts_on": starts_on, "ends_on": ends_on}
            for t in range(len(team_ids))
            for o in range(2)
        ],
    )
    objective_ids = list(session.execute(select(Objective.id).order_by(Objective.id)).scalars())[
        -2 * len(team_ids) :
    ]
    session.execute(
        insert(ObjectiveTeam),
        [{"objective_id": oid, "team_id": team_ids[i // 2]} for i, oid in enumerate(objective_ids)],
    )
    session.execute(
        insert(KeyResult),
        [
            {
                "objective_id": oid,
                "metric_name": f"Measure {k + 1}",
                "unit": "%",
                "baseline": 0.0 if k == 0 else 100.0,
                "target": 100.0 if k == 0 else 40.0,
                "direction": "increase" if k == 0 else "decrease",
                "due_date": ends_on,
                "weight": 1.0,
            }
            for oid in objective_ids
            for k in range(2)
        ],
    )
    kr_rows = session.execute(
        select(KeyResult.id, KeyResult.baseline, KeyResult.target)
        .where(KeyResult.objective_id.in_(objective_ids))
        .order_by(KeyResult.id)
    ).all()
    check_ins = []
    for kr_id, baseline, target in kr_rows:
        pace = rng.uniform(0.4, 1.2)
        for fortnight in range(1, 5):
            day = starts_on + timedelta(days=14 * fortnight)
            if day > plan.today:
                break
            share = min(1.0, pace * (day - starts_on).days / 91)
            check_ins.append(
                {
                    "key_result_id": kr_id,
                    "checked_on": day,
                    "value": round(baseline + (target - baseline) * share, 1),
                    "confidence": int(rng.integers(3, 10)),
                    "note": "",
                }
            )
    session.execute(insert(CheckIn), check_ins)


def load_org(engine: Engine, plan: BenchPlan) -> BenchOrg:
    """The ids of a complete earlier build (for reuse)."""
    with read_session(engine) as session:
        root = session.exec(select(Unit).where(Unit.code == plan.code)).one()
        codes = [f"bench-t{t + 1:05d}" for t in range(plan.teams)]
        by_code = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes))).all())
        team_ids = [by_code[code] for code in codes]
        by_email = dict(
            session.execute(
                select(Person.email, Person.id).where(Person.email.like("bench-%@bench.invalid"))
            ).all()
        )
        person_ids = [
            [by_email[member_email(t, p)] for p in range(plan.team_size(t))] for t in range(plan.teams)
        ]
    return BenchOrg(
        root_id=int(root.id),  # type: ignore[arg-type]
        team_ids=team_ids,
        person_ids=person_ids,
    )


# --------------------------------------------------------------------------------------------
# The synthetic answers: team, person, season and planted strain effects on one latent scale.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticSubmission:
    """One person's answer to one week's pulse, as ``submit_pulse`` takes it."""

    person_id: int
    team_id: int
    week: str
    answers: dict[str, int]
    days_home: int | None
    days_office: int | None
    days_site: int | None
    comment: str | None


PATTERNS = ("hybrid", "home", "office", "site", "none")
PATTERN_SHARES = (0.5, 0.2, 0.12, 0.15, 0.03)


def _days_for(pattern: str, wiggle: int) -> tuple[int | None, int | None, int | None]:
    if pattern == "hybrid":
        return 2 + (wiggle % 2), 3 - (wiggle % 2), 0
    if pattern == "home":
        return 5 - (wiggle % 2), wiggle % 2, 0
    if pattern == "office":
        return 0, 5, 0
    if pattern == "site":
        return 0, wiggle % 2, 5 - (wiggle % 2)
    return None, None, None


def synthetic_chunks(
    plan: BenchPlan, org: BenchOrg, items: Sequence[Any]
) -> Iterator[list[SyntheticSubmission]]:
    """The organisation's answers, one chunk per (week, block of teams), in a fixed order.

    Each chunk is drawn from its own seeded generator, so the content does not depend on how
    much was generated before (and memory holds one chunk)."""
    weeks = plan.week_labels
    team_rng = np.random.default_rng([plan.seed, 1])
    team_effect = team_rng.normal(0.0, 0.35, plan.teams)
    signs = np.array([(-1 if item.reverse else 1) for item in items], dtype=float)
    lows = np.array([item.scale.min for item in items], dtype=float)
    highs = np.array([item.scale.max for item in items], dtype=float)
    spreads = (highs - lows) / 4.0
    mids = (highs + lows) / 2.0
    item_ids = [item.id for item in items]
    for week_index, week in enumerate(weeks):
        season = 0.25 * math.sin(2 * math.pi * week_index / 52.0)
        for block_start in range(0, plan.teams, TEAMS_PER_CHUNK):
            rng = np.random.default_rng([plan.seed, 3, week_index, block_start])
            chunk: list[SyntheticSubmission] = []
            for t in range(block_start, min(plan.teams, block_start + TEAMS_PER_CHUNK)):
                person_rng = np.random.default_rng([plan.seed, 2, t])
                size = plan.team_size(t)
                person_effect = person_rng.normal(0.0, 0.8, size)
                pattern_index = person_rng.choice(len(PATTERNS), size=size, p=PATTERN_SHARES)
                strain = 0.0
                if plan.is_strained(t) and week_index >= plan.weeks - 10:
                    strain = -1.4 * min(1.0, (week_index - (plan.weeks - 10) + 1) / 5)
                answered = rng.random(size) < RESPONSE_PROBABILITY
                latent = team_effect[t] + person_effect + season + strain + rng.normal(0.0, 0.5, size)
                noise = rng.normal(0.0, 0.6, (size, len(items)))
                values = np.clip(
                    np.rint(mids + spreads * signs * (latent[:, None] + noise)), lows, highs
                )
                wiggles = rng.integers(0, 4, size)
                commented = rng.random(size) < 0.04
                comment_pick = rng.integers(0, len(COMMENTS), size)
                for p in np.flatnonzero(answered):
                    days = _days_for(PATTERNS[pattern_index[p]], int(wiggles[p]))
                    chunk.append(
                        SyntheticSubmission(
                            person_id=org.person_ids[t][p],
                            team_id=org.team_ids[t],
                            week=week,
                            answers=dict(zip(item_ids, (int(v) for v in values[p]), strict=True)),
                            days_home=days[0],
                            days_office=days[1],
                            days_site=days[2],
                            comment=COMMENTS[comment_pick[p]] if commented[p] else None,
                        )
                    )
            yield chunk


def expected_responses(plan: BenchPlan) -> int:
    """Everyone answering every week: the progress bar's total (about 4% do not answer)."""
    return sum(plan.team_size(t) for t in range(plan.teams)) * plan.weeks
