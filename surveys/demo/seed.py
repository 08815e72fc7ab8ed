"""Seeding the demo council into a database: the organisation through the organisation CSV
import, every pulse answer through ``surveys.submit.submit_pulse_in`` (one transaction per week),
and objectives, key results and weekly check-ins as plain rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models.base import iso_week, week_monday
from models.db import read_session, write_session
from models.org import Person, RoleGrant, Unit
from models.org_csv import import_org
from models.outcomes import CheckIn, KeyResult, Objective, ObjectiveTeam
from models.pulse import ParticipationReceipt, PulseResponse
from surveys.composition import DEFAULT_COMPOSITION_ID, get_composition
from surveys.demo.content import COMMENTS, KEY_RESULTS, OBJECTIVE_TITLES, STRAIN_COMMENTS
from surveys.demo.plan import DemoError, DemoPlan, plan_demo
from surveys.demo_strain import check_in_series, simulate_pulse
from surveys.submit import submit_pulse_in

DEMO_ACTOR = "demo-seed"
OBJECTIVE_WEEKS = 13  # objectives run for a quarter-length period
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoSummary:
    """What ``seed_demo`` built; ``strained_team_codes`` are the planted answers for evaluation."""

    council: str
    organisation_code: str
    units: int
    teams: int
    people: int
    role_grants: int
    weeks: tuple[str, ...]
    responses: int
    receipts: int
    objectives: int
    key_results: int
    check_ins: int
    strained_team_codes: tuple[str, ...]
    response_rate: float = field(default=0.0)

    def __str__(self) -> str:
        return (
            f"{self.council} ({self.organisation_code}): {self.units} units, {self.teams} teams, "
            f"{self.people} people, {self.role_grants} role grants; {len(self.weeks)} weeks "
            f"{self.weeks[0]}..{self.weeks[-1]}, {self.responses} responses "
            f"({self.response_rate:.0%} response), {self.objectives} objectives, "
            f"{self.key_results} key results, {self.check_ins} check-ins; planted strained teams: "
            f"{', '.join(self.strained_team_codes)}"
        )


def demo_weeks(weeks: int, today: date, until: str | None = None) -> list[str]:
    """``weeks`` ISO week labels ending with ``until`` or, by default, last week (the current week
    is left unanswered)."""
    end_monday = week_monday(until) + timedelta(weeks=1) if until else week_monday(iso_week(today))
    return [iso_week(end_monday - timedelta(weeks=back)) for back in range(weeks, 0, -1)]


def _days(
    days: int, frontline: bool, rng: np.random.Generator
) -> tuple[int | None, int | None, int | None]:
    if rng.random() < 0.05:
        return None, None, None  # skipped the hybrid question
    home_share = 0.1 if frontline else float(rng.choice([0.2, 0.4, 0.6, 0.8]))
    site_share = 0.85 if frontline else 0.05
    home = int(rng.binomial(days, home_share))
    site = int(rng.binomial(days - home, site_share))
    return home, days - home - site, site


def seed_demo(
    engine: Engine,
    *,
    participation_key: bytes,
    seed: int = 1,
    teams: int = 60,
    weeks: int = 26,
    today: date | None = None,
    until: str | None = None,
    no_strain: bool = False,
    progress: Progress | None = None,
) -> DemoSummary:
    """Build the demo organisation in an empty database; refuses a database that has units."""
    say = progress or (lambda _message: None)
    if not 1 <= weeks <= 260:
        raise DemoError(f"--weeks must be between 1 and 260, not {weeks}")
    today = today or date.today()
    plan = plan_demo(seed, teams, no_strain=no_strain)
    with read_session(engine) as session:
        if session.exec(select(func.count()).select_from(Unit)).one():
            raise DemoError("the database already has an organisation; seed the demo into an empty one")
    week_labels = demo_weeks(weeks, today, until)
    say(f"Planning {plan.council}: {len(plan.teams)} teams, {len(plan.people)} people ...")
    with write_session(engine) as session:
        import_org(session, plan.org_csv(), actor=DEMO_ACTOR)
    say("Organisation imported.")

    with read_session(engine) as session:
        unit_ids = dict(session.exec(select(Unit.code, Unit.id)).all())
        person_ids = dict(session.exec(select(Person.email, Person.id)).all())
    objectives, key_results, check_ins = _seed_outcomes(engine, plan, unit_ids, person_ids, week_labels)
    say(f"Objectives: {objectives} with {key_results} key results and {check_ins} check-ins.")

    responses = _seed_pulse(engine, plan, unit_ids, person_ids, week_labels, participation_key, say)
    with read_session(engine) as session:
        receipts = session.exec(select(func.count()).select_from(ParticipationReceipt)).one()
        stored = session.exec(select(func.count()).select_from(PulseResponse)).one()
        grants = session.exec(select(func.count()).select_from(RoleGrant)).one()
    staff = sum(1 for p in plan.people if p.team_code is not None)
    return DemoSummary(
        council=plan.council,
        organisation_code=plan.organisation_code,
        units=len(plan.units),
        teams=len(plan.teams),
        people=len(plan.people),
        role_grants=grants,
        weeks=tuple(week_labels),
        responses=stored,
        receipts=receipts,
        objectives=objectives,
        key_results=key_results,
        check_ins=check_ins,
        strained_team_codes=plan.strained_team_codes,
        response_rate=responses / (staff * len(week_labels)) if staff and week_labels else 0.0,
    )


def _seed_pulse(
    engine: Engine,
    plan: DemoPlan,
    unit_ids: dict[str, int],
    person_ids: dict[str, int],
    week_labels: Sequence[str],
    participation_key: bytes,
    say: Progress,
) -> int:
    """Every answer goes through ``submit_pulse_in``; one transaction per week. The answers come
    from ``surveys.demo_strain.simulate_pulse`` (the same generator the evaluation reads)."""
    rng = np.random.default_rng([plan.seed, 4])  # hybrid days and comments only
    composition = get_composition(DEFAULT_COMPOSITION_ID)
    frontline = {t.code: t.frontline_share for t in plan.teams}
    people = [(p.email, p.team_code, frontline[p.team_code]) for p in plan.people if p.team_code]
    names = tuple(person.name for person in plan.people)
    total = 0
    simulation = simulate_pulse(
        seed=plan.seed,
        people=people,
        plants=plan.plants,
        week_labels=week_labels,
        composition=composition,
    )
    for index, week, answers in simulation:
        with write_session(engine) as session:
            # Hold the teams so the submission's team check hits the session's identity map
            # instead of reloading a unit per answer (the session keeps only weak references).
            held_teams = session.exec(select(Unit).where(Unit.kind == "team")).all()
            for answer in answers:
                member = answer.member
                days_home, days_office, days_site = _days(member.days, member.frontline, rng)
                comment = None
                if rng.random() < 0.04 + 0.08 * answer.strained:
                    pool = STRAIN_COMMENTS if answer.strained > 0.3 and rng.random() < 0.7 else COMMENTS
                    comment = pool[int(rng.integers(len(pool)))]
                submit_pulse_in(
                    session,
                    person_id=person_ids[member.key],
                    team_id=unit_ids[member.team],
                    week=week,
                    answers=answer.answers,
                    days_home=days_home,
                    days_office=days_office,
                    days_site=days_site,
                    comment=comment,
                    participation_key=participation_key,
                    composition=composition,
                    known_names=names,
                )
        total += len(answers)
        del held_teams
        say(f"Week {week}: {len(answers)} responses ({index + 1}/{len(week_labels)}).")
    return total


def _friday(week: str) -> date:
    return week_monday(week) + timedelta(days=4)


def _seed_outcomes(
    engine: Engine,
    plan: DemoPlan,
    unit_ids: dict[str, int],
    person_ids: dict[str, int],
    week_labels: Sequence[str],
) -> tuple[int, int, int]:
    """A closed objective for the previous period and a live one for the current period per team,
    each with 2-3 key results and a check-in every Friday; planted teams stall and lose confidence."""
    rng = np.random.default_rng([plan.seed, 2])
    last_week = week_labels[-1]
    live_start = week_monday(last_week) - timedelta(weeks=9)
    periods = [
        (live_start - timedelta(weeks=OBJECTIVE_WEEKS), live_start - timedelta(days=1), True),
        (live_start, live_start + timedelta(weeks=OBJECTIVE_WEEKS) - timedelta(days=1), False),
    ]
    strained = set(plan.strained_team_codes)
    last_friday = _friday(last_week)
    stall_from = {
        plant.team: _friday(week_labels[max(0, len(week_labels) - plant.onset_weeks_before_end)])
        for plant in plan.plants
        if plant.kind == "delivery" and plant.onset_weeks_before_end is not None
    }
    objectives = key_results = check_ins = 0
    with write_session(engine) as session:
        shared: Objective | None = None
        for team in plan.teams:
            manager_id = person_ids[plan.managers[team.code]]
            pace = float(np.clip(rng.normal(1.0, 0.15), 0.55, 1.35))
            for starts_on, ends_on, closed in periods:
                objective = Objective(
                    title=OBJECTIVE_TITLES[int(rng.integers(len(OBJECTIVE_TITLES)))],
                    description=f"{team.name}: our outcome commitment for the period.",
                    starts_on=starts_on,
                    ends_on=ends_on,
                    closed=closed,
                    created_by_id=manager_id,
                    created_at=datetime.combine(starts_on, time(9), tzinfo=UTC),
                )
                session.add(objective)
                session.flush()
                session.add(ObjectiveTeam(objective_id=objective.id, team_id=unit_ids[team.code]))
                objectives += 1
                if not closed and shared is None and team.code not in strained:
                    shared = objective
                picks = rng.choice(len(KEY_RESULTS), size=int(rng.integers(2, 4)), replace=False)
                for pick in picks:
                    metric, unit_label, baseline, target = KEY_RESULTS[int(pick)]
                    key_result = KeyResult(
                        objective_id=objective.id,
                        metric_name=metric,
                        unit=unit_label,
                        baseline=baseline,
                        target=target,
                        direction="increase" if target > baseline else "decrease",
                        due_date=ends_on,
                    )
                    session.add(key_result)
                    session.flush()
                    key_results += 1
                    check_ins += _add_check_ins(
                        session,
                        key_result,
                        starts_on,
                        ends_on,
                        min(ends_on, last_friday),
                        pace=pace * float(rng.normal(1.0, 0.1)),
                        stall_from=None if closed else stall_from.get(team.code),
                        manager_id=manager_id,
                        rng=rng,
                    )
        # One objective shared by two teams of the same service (multi-team work).
        if shared is not None:
            owner = next(t for t in plan.teams if unit_ids[t.code] in _team_ids_of(session, shared))
            partner = next(
                (
                    t
                    for t in plan.teams
                    if t.service_code == owner.service_code
                    and t.code != owner.code
                    and t.code not in strained
                ),
                None,
            )
            if partner is not None:
                session.add(ObjectiveTeam(objective_id=shared.id, team_id=unit_ids[partner.code]))
                shared.description += f" Shared with {partner.name}."
                session.add(shared)
    return objectives, key_results, check_ins


def _team_ids_of(session: Session, objective: Objective) -> set[int]:
    return set(
        session.exec(select(ObjectiveTeam.team_id).where(ObjectiveTeam.objective_id == objective.id))
    )


def _add_check_ins(
    session: Session,
    key_result: KeyResult,
    starts_on: date,
    ends_on: date,
    until: date,
    *,
    pace: float,
    stall_from: date | None,
    manager_id: int,
    rng: np.random.Generator,
) -> int:
    """Weekly check-ins along ``surveys.demo_strain.check_in_series``."""
    series = check_in_series(starts_on, ends_on, until, pace=pace, stall_from=stall_from, rng=rng)
    for day, progress, confidence in series:
        value = key_result.baseline + progress * (key_result.target - key_result.baseline)
        session.add(
            CheckIn(
                key_result_id=key_result.id,
                checked_on=day,
                value=round(value, 1),
                confidence=confidence,
                note="",
                recorded_by_id=manager_id,
                created_at=datetime.combine(day, time(16), tzinfo=UTC),
            )
        )
    return len(series)


def database_is_empty(engine: Engine) -> bool:
    """No units and no people yet (``demo`` seeds only then)."""
    with read_session(engine) as session:
        units = session.exec(select(func.count()).select_from(Unit)).one()
        people = session.exec(select(func.count()).select_from(Person)).one()
    return units == 0 and people == 0
