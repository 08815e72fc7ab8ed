"""The benchmark behind ``wellbeing bench``: a synthetic organisation at scale, then timings.

Why it looks like this:

- The organisation is built by bulk insert in chunks of one week x a block of teams, appended to
  unindexed staging tables (``executemany`` on SQLite, ``COPY`` on PostgreSQL) and moved into the
  real tables in primary-key order at the end, so every B-tree grows at its edge. Every (team, week)
  lies wholly inside one chunk, so the chunk's maintained aggregates (``team_week_score``,
  ``team_week_responses``) are complete when it is written and memory stays bounded by the chunk,
  whatever the response count.
- The answers are scored, classified and receipted by the same functions that ``surveys.submit``
  uses, and the aggregates are summed in submission order, so the bulk path stores exactly what
  the submission path would (``tests/test_maintained_aggregates.py`` replays a small build through
  ``submit_pulse`` and compares).
- Each figure is the median of a few repetitions after a warm-up. A figure that cannot be measured
  yet (a module another area has not delivered) is ``null`` with its reason in ``unavailable``:
  never a made-up number.
"""

from __future__ import annotations

import importlib
import math
import platform
import resource
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from app.components.outcomes_data import DASHBOARD_CONSTRUCTS, WEEKS_SHOWN
from app.warmup import freeze_startup_objects
from models.access import Viewer, load_viewer
from models.base import iso_week, week_monday
from models.calendar import periods_of_week
from models.db import is_sqlite, read_session, write_session
from models.group_commit import GroupWriter
from models.org import Person, RoleGrant, Unit
from models.outcomes import CheckIn, KeyResult, Objective, ObjectiveTeam
from models.pulse import (
    ParticipationReceipt,
    PulsePeriod,
    PulseResponse,
    TeamWeekResponses,
)
from surveys.comments import scrub_comment
from surveys.composition import DEFAULT_COMPOSITION_ID, Composition, get_composition
from surveys.submit import (
    NewResponse,
    PreparedSubmission,
    SubmissionResult,
    add_to_weekly_sums,
    participation_receipt,
    person_names,
    prepare_with_engine,
    refresh_name_index,
    response_ids,
    submit_pulse,
)

PEOPLE_PER_TEAM = 20
WEEKS = 52
DEFAULT_RESPONSES = 1_000 * PEOPLE_PER_TEAM * WEEKS  # 1,000 teams x 20 people x 52 weeks
LAST_WEEK = "2026-W47"  # fixed, so a build can be reused and runs compare
RESPONSE_PROBABILITY = 0.96  # partial response, as in real pulses
SMALL_TEAM_EVERY, SMALL_TEAM_OFFSET, SMALL_TEAM_SIZE = 25, 7, 4  # some teams need pooling
STRAINED_TEAM_EVERY, STRAINED_TEAM_OFFSET = 33, 5  # planted strain in the last 10 weeks
TEAMS_PER_SERVICE, SERVICES_PER_DIRECTORATE = 10, 10
TEAMS_PER_CHUNK = 250  # one chunk = one week x 250 teams (about 4,800 responses)
SUBMITTERS = 200
SUBMIT_BURSTS = 3
PACED_SECONDS = 2.0  # the paced rounds: 200 submitters starting evenly over 2 s (100 per second)
ROOT_CODE_PREFIX = "bench-org-"
LOADING_NAME = "Benchmark council (synthetic; loading)"
COMPLETE_NAME = "Benchmark council (synthetic)"  # renamed once every chunk is in: reusable
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
# The pulse rules come from surveys (one rule in one place); the bench never re-implements them.
# --------------------------------------------------------------------------------------------


def stored_comment(comment: str | None, names: tuple[str, ...]) -> str | None:
    """The comment as ``submit_pulse_in`` stores it: scrubbed of e-mails, phones and names."""
    if comment and comment.strip():
        return scrub_comment(comment, names).text or None
    return None


# --------------------------------------------------------------------------------------------
# The synthetic organisation: structure, people, periods, outcomes.
# --------------------------------------------------------------------------------------------


@dataclass
class BenchOrg:
    """Ids of what the build created, in plan order."""

    root_id: int
    team_ids: list[int]
    person_ids: list[list[int]]  # per team, its members
    hr_email: str
    manager_email: str


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


def _create_structure(engine: Engine, plan: BenchPlan) -> BenchOrg:
    """Units, people, managers, HR, periods and a few objectives per team (small; plain inserts)."""
    with write_session(engine) as session:
        root = Unit(code=plan.code, name=LOADING_NAME, kind="organisation")
        session.add(root)
        session.flush()
        services_needed = math.ceil(plan.teams / TEAMS_PER_SERVICE)
        directorates: list[Unit] = []
        for d in range(math.ceil(services_needed / SERVICES_PER_DIRECTORATE)):
            directorates.append(
                Unit(
                    code=f"bench-d{d + 1:03d}",
                    name=f"Directorate {d + 1}",
                    kind="directorate",
                    parent_id=root.id,
                )
            )
        session.add_all(directorates)
        session.flush()
        services: list[Unit] = []
        for s in range(services_needed):
            parent = directorates[s // SERVICES_PER_DIRECTORATE]
            services.append(
                Unit(
                    code=f"bench-s{s + 1:04d}",
                    name=f"Service {s + 1}",
                    kind="service",
                    parent_id=parent.id,
                )
            )
        session.add_all(services)
        session.flush()
        teams = [
            Unit(
                code=f"bench-t{t + 1:05d}",
                name=f"Team {t + 1}",
                kind="team",
                parent_id=services[t // TEAMS_PER_SERVICE].id,
            )
            for t in range(plan.teams)
        ]
        session.add_all(teams)
        session.flush()
        team_ids = [int(team.id) for team in teams]  # type: ignore[arg-type]

        people = [
            {
                "email": f"bench-{t + 1:05d}-{p + 1:02d}@bench.invalid",
                "display_name": f"Member {p + 1} of team {t + 1}",
                "team_id": team_ids[t],
            }
            for t in range(plan.teams)
            for p in range(plan.team_size(t))
        ]
        people.append({"email": "bench-hr@bench.invalid", "display_name": "Bench HR", "team_id": None})
        people.append(
            {"email": "bench-manager@bench.invalid", "display_name": "Bench manager", "team_id": None}
        )
        session.execute(insert(Person), people)
        ids_by_email = dict(
            session.execute(select(Person.email, Person.id).where(Person.email.like("bench-%"))).all()
        )
        person_ids = [
            [
                ids_by_email[f"bench-{t + 1:05d}-{p + 1:02d}@bench.invalid"]
                for p in range(plan.team_size(t))
            ]
            for t in range(plan.teams)
        ]
        session.execute(
            insert(RoleGrant),
            [
                {"person_id": ids_by_email["bench-hr@bench.invalid"], "role": "hr", "unit_id": None},
                {
                    "person_id": ids_by_email["bench-manager@bench.invalid"],
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
            hr_email="bench-hr@bench.invalid",
            manager_email="bench-manager@bench.invalid",
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


# --------------------------------------------------------------------------------------------
# Rows for one chunk, exactly as the submission path would store them.
# --------------------------------------------------------------------------------------------


@dataclass
class ChunkRows:
    """The rows of one chunk for every pulse table, in a random order (storage order says nothing)."""

    responses: list[tuple[Any, ...]] = field(default_factory=list)
    receipts: list[tuple[Any, ...]] = field(default_factory=list)
    team_week_score: dict[tuple[int, str, str, str], list[float]] = field(default_factory=dict)
    team_week_responses: dict[tuple[int, str], list[int]] = field(default_factory=dict)


class FirstAnswers:
    """Who has answered yet in the current month, quarter and year, as chunks arrive in week order:
    a longer period's receipt is written with a person's first answer in it (as
    ``models.participation`` does), so once per person and period. Holds one period per kind."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, set[int]]] = {}

    def receipts(self, key: bytes, person_id: int, team_id: int, week: str) -> list[tuple[Any, ...]]:
        """(period, receipt, team) of the week and of the longer periods not yet answered in."""
        rows: list[tuple[Any, ...]] = [(week, participation_receipt(key, person_id, week), team_id)]
        for kind, period in periods_of_week(week).items():
            if kind == "week":
                continue
            label, people = self._seen.get(kind, ("", set()))
            if label != period:
                label, people = self._seen[kind] = (period, set())
            if person_id not in people:
                people.add(person_id)
                rows.append((period, participation_receipt(key, person_id, period), team_id))
        return rows


def chunk_rows(
    chunk: Sequence[SyntheticSubmission],
    composition: Composition,
    key: bytes,
    names: tuple[str, ...],
    rng: np.random.Generator,
    first_answers: FirstAnswers | None = None,
) -> ChunkRows:
    """What ``submit_pulse_in`` would store for each submission of the chunk, in the same order of
    aggregation (so sums are bit-for-bit those of the submission path). ``first_answers`` carries
    who has answered in the current month, quarter and year from chunk to chunk."""
    first_answers = first_answers or FirstAnswers()
    rows = ChunkRows()
    ids = response_ids([sub.week for sub in chunk])
    comments: dict[str | None, str | None] = {}
    for sub, response_id in zip(chunk, ids, strict=True):
        if sub.comment not in comments:
            comments[sub.comment] = stored_comment(sub.comment, names)
        comment = comments[sub.comment]
        days = (sub.days_home, sub.days_office, sub.days_site)
        # Scored, classified and serialised as a submission is (surveys.submit.NewResponse).
        response = NewResponse(
            sub.team_id, sub.week, composition, composition.validate(sub.answers), days, comment
        )
        rows.receipts.extend(first_answers.receipts(key, sub.person_id, sub.team_id, sub.week))
        rows.responses.append(
            (
                response_id,
                sub.team_id,
                sub.week,
                composition.label,
                *days,
                response.pattern,
                comment,
                response.answers_json,
                response.scores_json,
            )
        )
        add_to_weekly_sums(rows.team_week_score, rows.team_week_responses, response)
    for table in (rows.responses, rows.receipts):
        order = rng.permutation(len(table))
        table[:] = [table[j] for j in order]
    return rows


RESPONSE_COLUMNS = (
    "id",
    "team_id",
    "week",
    "instrument_version",
    "days_home",
    "days_office",
    "days_site",
    "work_pattern",
    "comment",
    "answers",
    "scores",
)
PULSE_TABLES = (
    ("pulse_response", RESPONSE_COLUMNS),
    ("participation_receipt", ("period", "receipt", "team_id")),
)
AGGREGATE_TABLES = (
    ("team_week_score", ("team_id", "week", "construct_id", "work_pattern", "n", "total", "total_sq")),
    ("team_week_responses", ("team_id", "week", "n", "comments")),
)


def _table_rows(rows: ChunkRows) -> list[list[tuple[Any, ...]]]:
    return [
        rows.responses,
        rows.receipts,
        [(*k, *v) for k, v in rows.team_week_score.items()],
        [(*k, *v) for k, v in rows.team_week_responses.items()],
    ]


STAGE_PREFIX = "bench_stage_"
PRIMARY_KEYS = {
    "pulse_response": ("id",),
    "participation_receipt": ("period", "receipt"),
    "team_week_score": ("team_id", "week", "construct_id", "work_pattern"),
    "team_week_responses": ("team_id", "week"),
}


def _create_sqlite_stages(dbapi: Any) -> None:
    """Unindexed staging copies of the pulse tables (same columns and affinities, no rows)."""
    cursor = dbapi.cursor()
    for table, columns in (*PULSE_TABLES, *AGGREGATE_TABLES):
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_PREFIX}{table}")
        cursor.execute(
            f"CREATE TABLE {STAGE_PREFIX}{table} AS SELECT {', '.join(columns)} FROM {table} WHERE 0"
        )
    cursor.close()


def _write_sqlite(dbapi: Any, rows: ChunkRows) -> None:
    """Append one chunk to the staging tables in one transaction (no index to keep up to date)."""
    cursor = dbapi.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        for (table, columns), table_rows in zip(
            (*PULSE_TABLES, *AGGREGATE_TABLES), _table_rows(rows), strict=True
        ):
            marks = ", ".join("?" * len(columns))
            cursor.executemany(
                f"INSERT INTO {STAGE_PREFIX}{table} ({', '.join(columns)}) VALUES ({marks})", table_rows
            )
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.close()


def _move_sqlite_stages(dbapi: Any) -> None:
    """Move the staged rows into the real tables in primary-key order, then drop the stages.

    In key order every index and the table itself grow at their ends, instead of one scattered page
    write per row. Rows are stored in the order of their random keys (response id, receipt HMAC),
    so storage order still says nothing about who answered when, as with ``submit_pulse``'s random
    rowids. Parents first, for the foreign keys."""
    cursor = dbapi.cursor()
    for table, columns in (*PULSE_TABLES, *AGGREGATE_TABLES):
        listed = ", ".join(columns)
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(
                f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {STAGE_PREFIX}{table} "
                f"ORDER BY {', '.join(PRIMARY_KEYS[table])}"
            )
            cursor.execute(f"DROP TABLE {STAGE_PREFIX}{table}")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    cursor.close()


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    return (
        str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _create_postgres_stages(dbapi: Any) -> None:
    """Unlogged, unindexed staging copies of the pulse tables."""
    connection = dbapi.driver_connection
    with connection.transaction(), connection.cursor() as cursor:
        for table, _ in (*PULSE_TABLES, *AGGREGATE_TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_PREFIX}{table}")
            cursor.execute(f"CREATE UNLOGGED TABLE {STAGE_PREFIX}{table} (LIKE {table})")


def _move_postgres_stages(dbapi: Any) -> None:
    """As on SQLite: staged rows into the real tables in key order, parents first, one transaction.

    PostgreSQL checks foreign keys with a trigger per row (most of the time of a plain move), so a
    superuser's move skips them as pg_restore does (``session_replication_role = replica``): the
    rows are consistent by construction (each chunk is generated whole, responses first)."""
    connection = dbapi.driver_connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    superuser = bool(row and row[0])
    with connection.transaction(), connection.cursor() as cursor:
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for table, columns in (*PULSE_TABLES, *AGGREGATE_TABLES):
            listed = ", ".join(columns)
            cursor.execute(
                f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {STAGE_PREFIX}{table} "
                f"ORDER BY {', '.join(PRIMARY_KEYS[table])}"
            )
            cursor.execute(f"DROP TABLE {STAGE_PREFIX}{table}")


def _write_postgres(dbapi: Any, rows: ChunkRows) -> None:
    """Append one chunk to the staging tables: one transaction of COPYs."""
    connection = dbapi.driver_connection
    with connection.transaction(), connection.cursor() as cursor:
        for (table, columns), table_rows in zip(
            (*PULSE_TABLES, *AGGREGATE_TABLES), _table_rows(rows), strict=True
        ):
            with cursor.copy(f"COPY {STAGE_PREFIX}{table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write("".join("\t".join(_copy_text(v) for v in row) + "\n" for row in table_rows))


def expected_responses(plan: BenchPlan) -> int:
    """Everyone answering every week: the progress bar's total (about 4% do not answer)."""
    return sum(plan.team_size(t) for t in range(plan.teams)) * plan.weeks


def all_names(engine: Engine) -> tuple[str, ...]:
    """Display names exactly as ``submit_pulse_in`` reads them for comment scrubbing."""
    with read_session(engine) as session:
        return person_names(session)


def build(
    engine: Engine,
    plan: BenchPlan,
    key: bytes,
    composition: Composition | None = None,
    progress: Callable[[int], None] = lambda _done: None,
    log: Callable[[str], None] = lambda _message: None,
) -> BenchOrg:
    """Create the organisation and bulk-load its year of answers; ``progress(n)`` after each chunk."""
    started = time.perf_counter()

    def phase(message: str) -> None:
        log(f"{message} ({time.perf_counter() - started:.1f} s)")

    composition = composition or get_composition(DEFAULT_COMPOSITION_ID)
    org = _create_structure(engine, plan)
    names = all_names(engine)
    phase("organisation, people, periods and objectives created")
    sqlite = is_sqlite(str(engine.url))
    rng = np.random.default_rng([plan.seed, 4])
    raw = engine.raw_connection()
    try:
        if sqlite:
            cursor = raw.cursor()
            # For this loading connection only (it is discarded afterwards): a 64 MB page cache
            # (also the sorter's budget; it spills to temporary files beyond that, so memory stays
            # flat at any size), and a checkpoint every ~400 MB of WAL instead of every 4 MB.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.execute("PRAGMA wal_autocheckpoint=100000")
            cursor.close()
            _create_sqlite_stages(raw)
        else:
            raw.driver_connection.autocommit = True  # each chunk is its own transaction block
            _create_postgres_stages(raw)
        items = [item for _, item in composition.items]
        first_answers = FirstAnswers()
        for chunk in synthetic_chunks(plan, org, items):
            rows = chunk_rows(chunk, composition, key, names, rng, first_answers)
            if sqlite:
                _write_sqlite(raw, rows)
            else:
                _write_postgres(raw, rows)
            progress(len(chunk))
        phase("answers generated, scored and written")
        if sqlite:
            _move_sqlite_stages(raw)
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        else:
            _move_postgres_stages(raw)
        phase("staged rows moved into place in key order")
    finally:
        raw.invalidate()  # its loading pragmas must not serve the measurements
    settle_after_bulk_load(engine)
    phase("statistics gathered, database settled after the load")
    with write_session(engine) as session:
        root = session.get(Unit, org.root_id)
        assert root is not None
        root.name = COMPLETE_NAME
        session.add(root)
    return org


def settle_after_bulk_load(engine: Engine) -> None:
    """Statistics, as after any bulk load; on PostgreSQL also what a server does in its own time
    after one, so that the measurements do not pay for it: VACUUM (it sets every new row's
    visibility hint bits; otherwise the first query to read a row sets them, and the background
    writer then writes half a gigabyte of pages back while submissions wait for their commits),
    and a CHECKPOINT (the load's dirty pages written now, not during the bursts). CHECKPOINT
    needs a superuser or pg_checkpoint; without it the server gets there in its own time."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)" if postgres else "ANALYZE"))
        if postgres:
            try:
                connection.execute(text("CHECKPOINT"))
            except DBAPIError:
                pass  # not allowed for this role: the load's pages are written back later


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
            [by_email[f"bench-{t + 1:05d}-{p + 1:02d}@bench.invalid"] for p in range(plan.team_size(t))]
            for t in range(plan.teams)
        ]
    return BenchOrg(
        root_id=int(root.id),  # type: ignore[arg-type]
        team_ids=team_ids,
        person_ids=person_ids,
        hr_email="bench-hr@bench.invalid",
        manager_email="bench-manager@bench.invalid",
    )


def count_responses(engine: Engine, plan: BenchPlan) -> int:
    with read_session(engine) as session:
        return int(
            session.exec(
                select(func.coalesce(func.sum(TeamWeekResponses.n), 0)).where(
                    TeamWeekResponses.week.between(plan.first_week, plan.last_week)
                )
            ).one()
        )


# --------------------------------------------------------------------------------------------
# Measurements.
# --------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


BARE_GROUP_BY = text(
    "SELECT team_id, week, construct_id, COUNT(*) AS n, SUM(score) AS total, "
    "SUM(score * score) AS total_sq "
    "FROM pulse_score WHERE week BETWEEN :first AND :last "
    "GROUP BY team_id, week, construct_id"
)
MAINTAINED_GROUP_BY = text(
    "SELECT team_id, week, construct_id, SUM(n) AS n, SUM(total) AS total, SUM(total_sq) AS total_sq "
    "FROM team_week_score WHERE week BETWEEN :first AND :last "
    "GROUP BY team_id, week, construct_id"
)


def _fetch_all(engine: Engine, query: Any, plan: BenchPlan) -> int:
    with engine.connect() as connection:
        return len(connection.execute(query, {"first": plan.first_week, "last": plan.last_week}).all())


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Submitters:
    """One round's new people: their ids and teams (a different team each, where possible)."""

    person_ids: list[int]
    teams: list[int]


def add_submitters(engine: Engine, org: BenchOrg, rounds: int) -> list[Submitters]:
    """``SUBMITTERS`` new people for each round, all added before the first: on a Monday morning
    the people table holds still while staff answer. (Added just before each round, they made
    every round's first commented submission look the table over for new names, which is what
    a new starter costs once, not what a burst costs.)"""
    token = uuid.uuid4().hex[:8]
    teams = [org.team_ids[i % len(org.team_ids)] for i in range(SUBMITTERS)]
    emails = [
        [f"submitter-{token}-{round_}-{i:03d}@bench.invalid" for i in range(SUBMITTERS)]
        for round_ in range(rounds)
    ]
    with write_session(engine) as session:
        session.execute(
            insert(Person),
            [
                {"email": email, "display_name": f"Submitter {i}", "team_id": team}
                for round_emails in emails
                for i, (email, team) in enumerate(zip(round_emails, teams, strict=True))
            ],
        )
        ids = dict(
            session.execute(
                select(Person.email, Person.id).where(Person.email.like(f"submitter-{token}-%"))
            ).all()
        )
    return [Submitters([ids[email] for email in round_emails], teams) for round_emails in emails]


def run_submitters(
    engine: Engine,
    plan: BenchPlan,
    submitters: Submitters,
    key: bytes,
    burst: int,
    spread_seconds: float = 0.0,
    submit_with: Callable[..., Any] = submit_pulse,
) -> dict[str, Any]:
    """The round's people submit through ``submit_pulse`` (or ``submit_with``, called the same
    way) from their own threads; latency per submission.

    ``spread_seconds=0``: all released in the same instant by a barrier (the worst case). Otherwise
    their start times are spread evenly over that many seconds (a busy Monday morning)."""
    composition = get_composition(DEFAULT_COMPOSITION_ID)
    person_ids, teams = submitters.person_ids, submitters.teams
    rng = np.random.default_rng([plan.seed, 5, burst])
    answers = [
        {item.id: int(rng.integers(item.scale.min, item.scale.max + 1)) for _, item in composition.items}
        for _ in range(SUBMITTERS)
    ]
    commented = rng.random(SUBMITTERS) < 0.04
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        barrier.wait()  # every thread is ready; the barrier's action noted the common start
        if spread_seconds:
            time.sleep(max(0.0, starts[0] + spread_seconds * i / SUBMITTERS - time.perf_counter()))
        started = time.perf_counter()
        try:
            submit_with(
                engine,
                person_id=person_ids[i],
                team_id=teams[i],
                week=plan.submit_week,
                answers=answers[i],
                days_home=2,
                days_office=3,
                days_site=0,
                comment=COMMENTS[i % len(COMMENTS)] if commented[i] else None,
                participation_key=key,
                composition=composition,
            )
        except Exception as error:  # noqa: BLE001  (counted and reported, never hidden)
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
            return
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)

    starts: list[float] = []
    barrier = threading.Barrier(SUBMITTERS, action=lambda: starts.append(time.perf_counter()))
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(SUBMITTERS)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    receipts = [participation_receipt(key, pid, plan.submit_week) for pid in person_ids]
    with read_session(engine) as session:
        stored = int(
            session.exec(
                select(func.count())
                .select_from(ParticipationReceipt)
                .where(ParticipationReceipt.period == plan.submit_week)
                .where(ParticipationReceipt.receipt.in_(receipts))  # type: ignore[attr-defined]
            ).one()
        )
    return {
        "sent": SUBMITTERS,
        "stored": stored,
        "errors": errors,
        "latencies": latencies,
        "wall_s": wall,
    }


def _write_nothing(_connection: Any, prepared: Sequence[PreparedSubmission]) -> list[SubmissionResult]:
    """What ``write_prepared_batch`` returns for a batch it stored, storing nothing."""
    return [submission.result() for submission in prepared]


def submitting_without_writing(engine: Engine) -> Callable[..., SubmissionResult]:
    """The reference for the same-instant burst, as the bare GROUP BY is for the HR overview:
    ``submit_pulse`` with only its SQL left out. Each submission is prepared as ``submit_pulse``
    prepares it and goes through a group-commit writer of its own (leader, queue, connection,
    hand-over), whose batches write nothing. 200 threads released at once share one interpreter
    lock, and a thread that waits for another (the writer gives the lock up at its first database
    call, and gets it back behind every thread queued for it) waits for most of the burst to
    arrive: this p95 is what that costs on the machine, and the burst's p95 minus it is what
    writing costs."""
    writer: GroupWriter[PreparedSubmission, SubmissionResult] = GroupWriter(engine, _write_nothing)

    def submit(engine: Engine, **submission: Any) -> SubmissionResult:
        return writer.write(prepare_with_engine(engine, **submission))

    return submit


# --------------------------------------------------------------------------------------------
# The figures other areas provide: resolved when called, so a module still being written shows up
# in the report as "not available" with its reason instead of stopping the benchmark.
# --------------------------------------------------------------------------------------------


def _function(module_name: str, name: str) -> Callable[..., Any]:
    module = importlib.import_module(module_name)
    found = getattr(module, name, None)
    if found is None:
        raise LookupError(f"{module_name}.{name} does not exist yet")
    return found


def _viewer(engine: Engine, email: str) -> Viewer:
    with read_session(engine) as session:
        viewer = load_viewer(session, email)
    if viewer is None:
        raise BenchError(f"the benchmark account {email} is missing")
    return viewer


def _rules() -> Any:
    return _function("analytics.privacy", "PrivacyRules")()


def release_everything(engine: Engine, plan: BenchPlan) -> int:
    """Release every period of the build that has closed by the plan's today (what the server's
    background thread or ``wellbeing release`` does once per period); how many were released."""
    release_due = _function("analytics.privacy", "release_due")
    schedule = _function("analytics.privacy", "ReleaseSchedule")()
    moment = _function("analytics.privacy.release", "as_of_moment")(plan.today, schedule.time_zone)
    return len(release_due(engine, now=moment, rules=_rules(), schedule=schedule))


def hr_overview(engine: Engine, org: BenchOrg) -> int:
    """The HR overview's data: every unit x released week x construct of the organisation, read from
    the store of frozen releases (the heatmap, the trends and the export all read this), as HR."""
    organisation_figures = _function("analytics.privacy", "organisation_figures")
    viewer = _viewer(engine, org.hr_email)
    with read_session(engine) as session:
        frame = organisation_figures(
            session=session, viewer=viewer, kind="week", organisation_id=org.root_id
        )
    return len(frame)


PAGE_WEEKS, PAGE_CONSTRUCTS = WEEKS_SHOWN, DASHBOARD_CONSTRUCTS  # what the team dashboard asks for


def team_dashboard(
    engine: Engine, plan: BenchPlan, org: BenchOrg, weeks: int | None = None, constructs: Any = None
) -> int:
    """A manager's team dashboard data for one team: released series, pattern mix, response rate
    and delivery. By default every released week and construct (more than the page asks for)."""
    team_figures = _function("analytics.privacy.views", "team_figures")  # as the page's load_wellbeing
    latest = _function("analytics.privacy.views", "latest_released_weeks")
    team_delivery = _function("analytics.objectives", "team_delivery")
    viewer = _viewer(engine, org.manager_email)
    team_id = org.team_ids[0]
    with read_session(engine) as session:
        shown = latest(session, unit_id=team_id, count=weeks or len(plan.week_labels))
        common = {"session": session, "viewer": viewer, "team_id": team_id}
        figures = team_figures(**common, weeks=shown, constructs=constructs)
        team_delivery(**common, today=plan.today)
    return len(figures.series)


def strain_detection(engine: Engine, plan: BenchPlan, org: BenchOrg) -> int:
    """Strain detection over every team that passes the gate (features, clustering, reasons and
    sustained-drop alerts), as HR sees it."""
    strain_report = _function("analytics.strain_features", "strain_report")
    viewer = _viewer(engine, org.hr_email)
    with read_session(engine) as session:
        report = strain_report(
            session=session, viewer=viewer, rules=_rules(), end_week=plan.last_week, today=plan.today
        )
    return len(report.eligible) if report is not None else 0


# --------------------------------------------------------------------------------------------
# The run: build or reuse, then every figure.
# --------------------------------------------------------------------------------------------


def _timed(
    report: dict[str, Any],
    unavailable: dict[str, str],
    key: str,
    action: Callable[[], Any],
    repeats: int,
    cold_key: str | None = None,
) -> Any:
    """Median seconds of ``action`` into ``report[key]``, or None and the reason it could not run.
    With ``cold_key``, also the first call's seconds (the median is of warm calls)."""
    try:
        if cold_key is not None:
            started = time.perf_counter()
        result = action()  # warm-up, and the size of what it returns
        if cold_key is not None:
            report[cold_key] = round(time.perf_counter() - started, 4)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
    except (ImportError, LookupError) as error:
        report[key] = None
        unavailable[key] = f"not available yet: {error}"
        if cold_key is not None:
            report[cold_key] = None
            unavailable[cold_key] = unavailable[key]
        return None
    except Exception as error:  # noqa: BLE001  (another area's module failed: report, don't hide)
        report[key] = None
        unavailable[key] = f"failed: {type(error).__name__}: {error}"
        if cold_key is not None:
            report[cold_key] = None
            unavailable[cold_key] = unavailable[key]
        return None
    report[key] = round(statistics.median(times), 4)
    return result


def run_benchmark(
    engine: Engine,
    plan: BenchPlan,
    key: bytes,
    *,
    repeats: int = 3,
    progress: Callable[[int], None] = lambda _done: None,
    log: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """Build (or reuse) the organisation, measure every figure, return the report (JSON-ready)."""
    report: dict[str, Any] = {
        "backend": _backend(engine),
        "database": _url_for_report(engine),
        "teams": plan.teams,
        "people_per_team": plan.people_per_team,
        "weeks": plan.weeks,
        "first_week": plan.first_week,
        "last_week": plan.last_week,
        "repeats": repeats,
        **platform_info(engine),
    }
    unavailable: dict[str, str] = {}
    state = inspect_database(engine, plan)
    if state == "empty":
        log("building the synthetic organisation")
        started = time.perf_counter()
        org = build(engine, plan, key, progress=progress, log=log)
        report["generate_and_load_seconds"] = round(time.perf_counter() - started, 2)
        report["reused_existing_build"] = False
    else:
        log("reusing the complete build of the same size in this database")
        org = load_org(engine, plan)
        report["generate_and_load_seconds"] = None
        unavailable["generate_and_load_seconds"] = (
            "reused a complete build of the same size from an earlier run; "
            "use a fresh database to time it"
        )
        report["reused_existing_build"] = True
    report["responses"] = count_responses(engine, plan)
    report["responses_per_second_loaded"] = (
        round(report["responses"] / report["generate_and_load_seconds"])
        if report["generate_and_load_seconds"]
        else None
    )
    report["peak_rss_mb_after_load"] = peak_rss_mb()
    freeze_startup_objects()  # as a server does after start-up (app.ui.settle_server_process)

    log("timing the bare GROUP BY (reference)")
    groups = _timed(
        report,
        unavailable,
        "bare_group_by_seconds",
        lambda: _fetch_all(engine, BARE_GROUP_BY, plan),
        repeats,
    )
    report["bare_group_by_rows"] = groups
    log("timing the GROUP BY over the maintained weekly aggregates")
    report["maintained_group_by_rows"] = _timed(
        report,
        unavailable,
        "maintained_group_by_seconds",
        lambda: _fetch_all(engine, MAINTAINED_GROUP_BY, plan),
        repeats,
    )
    log("releasing every closed period (once per build: a reused build has them already)")
    try:
        started = time.perf_counter()
        report["periods_released"] = release_everything(engine, plan)
        report["release_seconds"] = round(time.perf_counter() - started, 4)
    except Exception as error:  # noqa: BLE001  (reported, never hidden)
        report["periods_released"] = report["release_seconds"] = None
        unavailable["release_seconds"] = f"failed: {type(error).__name__}: {error}"
    log("timing the HR overview, read from the released store")
    report["hr_overview_rows"] = _timed(
        report, unavailable, "hr_overview_seconds", lambda: hr_overview(engine, org), repeats
    )
    report["hr_overview_to_group_by_ratio"] = (
        round(report["hr_overview_seconds"] / report["bare_group_by_seconds"], 4)
        if report["hr_overview_seconds"] is not None and report["bare_group_by_seconds"]
        else None
    )
    if report["hr_overview_to_group_by_ratio"] is None:
        unavailable["hr_overview_to_group_by_ratio"] = "needs hr_overview_seconds"
    log("timing a team dashboard")
    _timed(
        report,
        unavailable,
        "team_dashboard_seconds",
        lambda: team_dashboard(engine, plan, org),
        max(repeats, 5),
        cold_key="team_dashboard_cold_seconds",
    )
    _timed(
        report,
        unavailable,
        "team_dashboard_as_page_seconds",
        lambda: team_dashboard(engine, plan, org, weeks=PAGE_WEEKS, constructs=list(PAGE_CONSTRUCTS)),
        max(repeats, 5),
        cold_key="team_dashboard_as_page_cold_seconds",
    )
    log("timing strain detection over all teams")
    report["strain_teams_assessed"] = _timed(
        report, unavailable, "strain_seconds", lambda: strain_detection(engine, plan, org), repeats
    )

    log(f"1 + {SUBMIT_BURSTS} bursts of {SUBMITTERS} concurrent submitters, released at once")
    # Like every figure, the bursts are timed after a warm-up burst: the process's first one also
    # pays its one-off costs (pooled connections, first use of the code). It is reported on its
    # own, as the first burst after a restart of a server whose warmer has run once (the
    # comment-scrubbing name index built, as app.warmup builds it), and its submissions count in
    # sent and stored.
    people = add_submitters(engine, org, 1 + 3 * SUBMIT_BURSTS)
    refresh_name_index(engine)
    first = run_submitters(engine, plan, people[0], key, 2 * SUBMIT_BURSTS)
    report["submit_first_burst_p95_ms"] = (
        round(_quantile(first["latencies"], 0.95) * 1000, 1) if first["latencies"] else None
    )
    bursts = [
        run_submitters(engine, plan, people[1 + burst], key, burst) for burst in range(SUBMIT_BURSTS)
    ]
    log(f"{SUBMIT_BURSTS} rounds of {SUBMITTERS} submitters spread over {PACED_SECONDS:g} s")
    paced = [
        run_submitters(
            engine,
            plan,
            people[1 + SUBMIT_BURSTS + burst],
            key,
            SUBMIT_BURSTS + burst,
            spread_seconds=PACED_SECONDS,
        )
        for burst in range(SUBMIT_BURSTS)
    ]
    log(f"{SUBMIT_BURSTS} reference bursts: the same, with nothing written")
    reference = [
        run_submitters(
            engine,
            plan,
            people[1 + 2 * SUBMIT_BURSTS + burst],
            key,
            2 * SUBMIT_BURSTS + 1 + burst,
            submit_with=submitting_without_writing(engine),
        )
        for burst in range(SUBMIT_BURSTS)
    ]
    report["submit_concurrent_submitters"] = SUBMITTERS
    report["submit_bursts"] = SUBMIT_BURSTS
    for prefix, rounds in (
        ("submit", bursts),
        ("submit_paced", paced),
        ("submit_reference", reference),
    ):
        p50s = [_quantile(b["latencies"], 0.5) * 1000 for b in rounds if b["latencies"]]
        p95s = [_quantile(b["latencies"], 0.95) * 1000 for b in rounds if b["latencies"]]
        report[f"{prefix}_p50_ms"] = round(statistics.median(p50s), 1) if p50s else None
        report[f"{prefix}_p95_ms"] = round(statistics.median(p95s), 1) if p95s else None
        # Each round's own p95: how far apart they are says how much to trust the median.
        report[f"{prefix}_p95_ms_each_round"] = [round(p95, 1) for p95 in p95s]
    report["submit_paced_per_second"] = round(SUBMITTERS / PACED_SECONDS)
    report["submit_max_ms"] = round(max(max(b["latencies"], default=0.0) for b in bursts) * 1000, 1)
    report["submit_burst_wall_seconds"] = round(statistics.median(b["wall_s"] for b in bursts), 3)
    # the reference bursts store nothing, and are checked for it
    report["submit_reference_stored"] = sum(b["stored"] for b in reference)
    report["submit_reference_errors"] = sum(len(b["errors"]) for b in reference)
    everything = [first, *bursts, *paced]
    report["submit_sent"] = sum(b["sent"] for b in everything)
    report["submit_stored"] = sum(b["stored"] for b in everything)
    report["submit_errors"] = sum(len(b["errors"]) for b in everything)
    report["submit_error_examples"] = sorted({e for b in everything for e in b["errors"]})[:3]
    report["peak_rss_mb"] = peak_rss_mb()
    report["unavailable"] = unavailable
    return report


def _url_for_report(engine: Engine) -> str:
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def _backend(engine: Engine) -> str:
    return "sqlite" if is_sqlite(str(engine.url)) else "postgresql"


def platform_info(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        if is_sqlite(str(engine.url)):
            version = connection.execute(text("SELECT sqlite_version()")).scalar_one()
        else:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    return {
        "python": platform.python_version(),
        "database_version": str(version),
        "machine": platform.machine(),
    }
