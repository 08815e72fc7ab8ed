"""The demo organisation: a fictional UK council with six months of pulse answers and outcomes.

Deterministic by seed. ``plan_demo(seed, teams)`` decides the structure, the people and which
teams are planted as strained, without touching a database (tests and the strain evaluation read
the planted codes from it). ``seed_demo(engine, ...)`` writes the plan: the organisation through
the organisation CSV import, every pulse answer through ``surveys.submit.submit_pulse_in`` (one
transaction per week), and objectives, key results and weekly check-ins as plain rows.

The statistical shape follows the real data in data/external (bh1996): about 4% of the variance of
wellbeing lies between teams (a team effect plus a small drifting team component), the rest between
people and from week to week (autocorrelated, since WHO-5 asks about two weeks). Wellbeing dips in
winter and at Christmas; response is partial (about 70%) and lower in holiday weeks. Planted
strain and the weekly answers come from ``surveys.demo_strain`` (partial patterns with an onset
part-way through the weeks, distractors; the same generator the strain evaluation runs in memory).
Weeks end last week (or ``until``), so the current week is left for a demo user to answer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from models.base import iso_week, week_monday
from models.db import read_session, write_session
from models.org import Person, RoleGrant, Unit
from models.org_csv import COLUMNS, import_org
from models.outcomes import CheckIn, KeyResult, Objective, ObjectiveTeam
from models.pulse import ParticipationReceipt, PulseResponse
from surveys.composition import DEFAULT_COMPOSITION_ID, get_composition
from surveys.demo_strain import Plant, check_in_series, choose_plants, simulate_pulse
from surveys.submit import submit_pulse_in

DEMO_ACTOR = "demo-seed"
OBJECTIVE_WEEKS = 13  # objectives run for a quarter-length period
Progress = Callable[[str], None]

COUNCILS: tuple[tuple[str, str, str], ...] = (
    ("Westmere Valley Council", "WVC", "westmere.gov.uk"),
    ("Northbridge Borough Council", "NBC", "northbridge.gov.uk"),
    ("Ashcombe District Council", "ADC", "ashcombe.gov.uk"),
    ("Kingsholm City Council", "KCC", "kingsholm.gov.uk"),
    ("Eastleigh Vale Council", "EVC", "eastleighvale.gov.uk"),
)

# Directorate code, name, frontline share (people mostly on site), services with their team stems.
DIRECTORATES: tuple[tuple[str, str, float, tuple[tuple[str, str, tuple[str, ...]], ...]], ...] = (
    (
        "ADU",
        "Adults, Health & Wellbeing",
        0.5,
        (
            (
                "SC",
                "Adult Social Care",
                (
                    "Community Care North",
                    "Community Care South",
                    "Hospital Discharge",
                    "Reablement",
                    "Safeguarding Adults",
                    "Occupational Therapy",
                    "Learning Disabilities",
                ),
            ),
            ("PH", "Public Health", ("Health Improvement", "Health Protection", "Healthy Lifestyles")),
            ("CM", "Commissioning", ("Care Commissioning", "Market Development")),
        ),
    ),
    (
        "CHI",
        "Children & Families",
        0.45,
        (
            (
                "CS",
                "Children's Social Care",
                (
                    "Front Door",
                    "Assessment",
                    "Child Protection",
                    "Looked After Children",
                    "Care Leavers",
                    "Fostering",
                ),
            ),
            (
                "ED",
                "Education & Inclusion",
                ("School Admissions", "SEND Casework", "Educational Psychology", "Early Years"),
            ),
            ("YJ", "Youth Services", ("Youth Justice", "Youth Work")),
        ),
    ),
    (
        "PLA",
        "Place & Environment",
        0.6,
        (
            (
                "EN",
                "Environmental Services",
                (
                    "Waste Collection East",
                    "Waste Collection West",
                    "Street Cleansing",
                    "Parks & Open Spaces",
                    "Environmental Health",
                ),
            ),
            (
                "PL",
                "Planning & Regeneration",
                ("Development Management", "Planning Policy", "Building Control", "Regeneration"),
            ),
            (
                "HW",
                "Highways & Transport",
                ("Highways Maintenance", "Traffic Management", "Passenger Transport"),
            ),
        ),
    ),
    (
        "HOU",
        "Housing & Communities",
        0.35,
        (
            (
                "HO",
                "Housing Options",
                ("Homelessness Prevention", "Temporary Accommodation", "Housing Register"),
            ),
            ("TS", "Tenancy Services", ("Tenancy Management", "Repairs Hub", "Income Collection")),
            ("CO", "Communities", ("Libraries", "Community Safety", "Leisure & Culture")),
        ),
    ),
    (
        "RES",
        "Resources",
        0.05,
        (
            (
                "PE",
                "People & Organisational Development",
                ("HR Advisory", "Payroll", "Learning & Development"),
            ),
            ("DI", "Digital & ICT", ("ICT Service Desk", "Infrastructure", "Digital Delivery")),
            ("FI", "Finance", ("Accounts Payable", "Revenues", "Benefits", "Financial Planning")),
            ("CU", "Customer Services", ("Contact Centre", "Complaints & Feedback")),
            ("LG", "Legal & Democratic", ("Legal Services", "Democratic Services", "Elections")),
        ),
    ),
)
HR_TEAM_STEM, ICT_TEAM_STEM = "HR Advisory", "ICT Service Desk"

FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah",
    "Adam",
    "Adebayo",
    "Aisha",
    "Alex",
    "Alice",
    "Amara",
    "Amelia",
    "Amir",
    "Amy",
    "Andrew",
    "Anna",
    "Arjun",
    "Ava",
    "Bethan",
    "Caitlin",
    "Callum",
    "Charlotte",
    "Chloe",
    "Chris",
    "Ciaran",
    "Connor",
    "Daniel",
    "David",
    "Declan",
    "Eilidh",
    "Eleanor",
    "Elena",
    "Ella",
    "Emily",
    "Emma",
    "Ethan",
    "Fatima",
    "Finlay",
    "Fiona",
    "Freya",
    "Gareth",
    "Georgia",
    "Gurpreet",
    "Hamza",
    "Hannah",
    "Harry",
    "Hassan",
    "Imran",
    "Isla",
    "Jack",
    "James",
    "Jasmine",
    "Jessica",
    "Joanne",
    "Jordan",
    "Joseph",
    "Kai",
    "Karen",
    "Katie",
    "Kemi",
    "Kieran",
    "Laura",
    "Leah",
    "Liam",
    "Lily",
    "Lucy",
    "Mandeep",
    "Maria",
    "Mark",
    "Megan",
    "Mia",
    "Michael",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Nathan",
    "Niamh",
    "Nicola",
    "Noah",
    "Oliver",
    "Olivia",
    "Oscar",
    "Owen",
    "Priya",
    "Rachel",
    "Rebecca",
    "Rhys",
    "Ryan",
    "Saira",
    "Samuel",
    "Sarah",
    "Sean",
    "Shannon",
    "Simon",
    "Sophie",
    "Stephen",
    "Tariq",
    "Thomas",
    "Tomasz",
    "Usman",
    "Victoria",
    "Wei",
    "Yasmin",
    "Zainab",
    "Zoe",
)
SURNAMES: tuple[str, ...] = (
    "Abbott",
    "Adeyemi",
    "Ahmed",
    "Ali",
    "Anderson",
    "Atkinson",
    "Bailey",
    "Begum",
    "Bennett",
    "Bibi",
    "Bradley",
    "Campbell",
    "Chapman",
    "Chaudhry",
    "Chen",
    "Clarke",
    "Collins",
    "Cooper",
    "Davies",
    "Dawson",
    "Dixon",
    "Doherty",
    "Edwards",
    "Evans",
    "Farrell",
    "Fletcher",
    "Gallagher",
    "Gill",
    "Graham",
    "Griffiths",
    "Hall",
    "Harris",
    "Hughes",
    "Hussain",
    "Iqbal",
    "Jackson",
    "James",
    "Jenkins",
    "Johnson",
    "Jones",
    "Kaur",
    "Kelly",
    "Khan",
    "Kowalski",
    "Lewis",
    "Lloyd",
    "Macdonald",
    "Mahmood",
    "Malik",
    "Marshall",
    "Martin",
    "Mccarthy",
    "Mitchell",
    "Morgan",
    "Morris",
    "Murphy",
    "Murray",
    "Nowak",
    "Obi",
    "Okafor",
    "Oconnor",
    "Owen",
    "Parker",
    "Patel",
    "Phillips",
    "Powell",
    "Price",
    "Rahman",
    "Reid",
    "Roberts",
    "Robinson",
    "Rossi",
    "Scott",
    "Shah",
    "Sharma",
    "Singh",
    "Smith",
    "Stewart",
    "Sullivan",
    "Taylor",
    "Thomas",
    "Thompson",
    "Turner",
    "Walsh",
    "Ward",
    "Watson",
    "Williams",
    "Wilson",
    "Wright",
    "Yilmaz",
    "Zhang",
)

OBJECTIVE_TITLES: tuple[str, ...] = (
    "Residents get a faster, first-time response",
    "Fewer people wait for the help they need",
    "Improve outcomes for the people we support",
    "Deliver a reliable service every week",
    "Make it easier to contact us online",
    "Reduce avoidable repeat contact",
    "Use our budget where it makes most difference",
    "Build a stable, skilled team",
)
# metric, unit, baseline, target (direction follows from baseline vs target)
KEY_RESULTS: tuple[tuple[str, str, float, float], ...] = (
    ("Cases closed within 20 working days", "%", 62, 80),
    ("Average days to first contact", "days", 9, 5),
    ("Residents satisfied with the outcome", "%", 71, 82),
    ("Backlog of open cases", "cases", 140, 90),
    ("Complaints upheld", "per quarter", 24, 14),
    ("Requests resolved at first contact", "%", 55, 70),
    ("Online transactions", "% of all", 48, 65),
    ("Reviews completed on time", "%", 68, 90),
    ("Staff with a completed development plan", "%", 40, 85),
    ("Agency spend", "GBP k per month", 38, 22),
    ("Missed scheduled visits", "per month", 30, 12),
    ("Service users with an up-to-date plan", "%", 74, 92),
)
COMMENTS: tuple[str, ...] = (
    "Good week overall, the team pulled together.",
    "Really useful team meeting on Tuesday.",
    "The new case system is slow and takes up a lot of time.",
    "Felt more connected after the office day this week.",
    "Appreciated the flexibility to work from home when the school was closed.",
    "Training this week was helpful.",
    "Quiet week, caught up on paperwork.",
    "Parking at the civic centre is still a problem.",
    "Would like clearer priorities for the quarter.",
    "Thanks for the recognition in the all-staff email.",
)
STRAIN_COMMENTS: tuple[str, ...] = (
    "Workload is unmanageable with two vacancies still unfilled.",
    "Too many urgent cases and not enough time to do them properly.",
    "Feeling stretched; deadlines keep moving forward.",
    "Covering for absences again this week, it is exhausting.",
    "We need more support, the caseload keeps growing.",
)


@dataclass(frozen=True)
class PlannedTeam:
    code: str
    name: str
    service_code: str
    directorate_code: str
    frontline_share: float
    size: int


@dataclass(frozen=True)
class PlannedPerson:
    email: str
    name: str
    team_code: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class DemoPlan:
    """Everything decided by the seed alone (no dates, no database)."""

    seed: int
    council: str
    organisation_code: str
    domain: str
    units: tuple[tuple[str, str, str | None], ...]  # (code, name, parent)
    teams: tuple[PlannedTeam, ...]
    people: tuple[PlannedPerson, ...]
    strained_team_codes: tuple[str, ...]
    managers: dict[str, str]  # team code -> email of the manager who checks in for it
    plants: tuple[Plant, ...] = ()  # per team: the planted strain kind and onset (or "none")

    def plant_of(self, code: str) -> Plant:
        return next((plant for plant in self.plants if plant.team == code), Plant(code))

    def org_csv(self) -> str:
        """The plan in the organisation CSV format (what ``import_org`` reads)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for code, name, parent in self.units:
            writer.writerow(["unit", code, name, parent or "", ""])
        for person in self.people:
            writer.writerow(
                ["person", person.email, person.name, person.team_code or "", ";".join(person.roles)]
            )
        return buffer.getvalue()


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


class DemoError(ValueError):
    """The demo cannot be seeded as asked (message safe to show)."""


def _team_size(rng: np.random.Generator) -> int:
    """Mostly 6-16 people, some large teams (17-25) and some very small ones (3-4)."""
    draw = rng.random()
    if draw < 0.1:
        return int(rng.integers(3, 5))
    if draw < 0.8:
        return int(rng.integers(6, 17))
    return int(rng.integers(17, 26))


def _allocate_team_stems(team_count: int) -> list[tuple[int, int, str]]:
    """(directorate index, service index, team name) for ``team_count`` teams, spread over services.

    The HR and ICT teams always come first, since the HR and admin demo accounts live there. Every
    service's named teams are used before any name repeats (with a number) for large demos.
    """
    services = [(d, s) for d, (_, _, _, svc) in enumerate(DIRECTORATES) for s in range(len(svc))]
    special = (HR_TEAM_STEM, ICT_TEAM_STEM)
    queues = {key: list(DIRECTORATES[key[0]][3][key[1]][2]) for key in services}
    chosen = [(d, s, stem) for d, s in services for stem in queues[(d, s)] if stem in special]
    taken = set(chosen)
    rounds = 1
    while len(chosen) < team_count:
        added = False
        for d, s in services:
            for stem in queues[(d, s)]:
                entry = (d, s, stem if rounds == 1 else f"{stem} {rounds}")
                if entry not in taken:
                    chosen.append(entry)
                    taken.add(entry)
                    added = True
                    break
            if len(chosen) >= team_count:
                break
        if not added:
            rounds += 1
    return chosen[:team_count]


def plan_demo(seed: int = 1, teams: int = 60, *, no_strain: bool = False) -> DemoPlan:
    """The organisation for ``seed``: units, teams, people with roles, and the planted strain
    (``surveys.demo_strain``; nothing planted with ``no_strain``)."""
    if not 5 <= teams <= 5000:
        raise DemoError(f"--teams must be between 5 and 5000, not {teams}")
    rng = np.random.default_rng([seed, 0])
    council, org_code, domain = COUNCILS[seed % len(COUNCILS)]
    units: list[tuple[str, str, str | None]] = [(org_code, council, None)]
    allocation = _allocate_team_stems(teams)
    used_services = sorted({(d, s) for d, s, _ in allocation})
    for d in sorted({d for d, _ in used_services}):
        d_code, d_name, _, _ = DIRECTORATES[d]
        units.append((f"{org_code}-{d_code}", d_name, org_code))
    for d, s in used_services:
        d_code, _, _, services = DIRECTORATES[d]
        s_code, s_name, _ = services[s]
        units.append((f"{org_code}-{d_code}-{s_code}", s_name, f"{org_code}-{d_code}"))
    planned_teams: list[PlannedTeam] = []
    counters: dict[tuple[int, int], int] = {}
    for d, s, stem in allocation:
        d_code, _, frontline, services = DIRECTORATES[d]
        s_code = services[s][0]
        counters[(d, s)] = counters.get((d, s), 0) + 1
        service_code = f"{org_code}-{d_code}-{s_code}"
        code = f"{service_code}-{counters[(d, s)]:02d}"
        size = _team_size(rng)
        if stem in (HR_TEAM_STEM, ICT_TEAM_STEM):
            size = max(size, 6)
        planned_teams.append(
            PlannedTeam(code, stem, service_code, f"{org_code}-{d_code}", frontline, size)
        )
        units.append((code, stem, service_code))

    # People: unique first.last emails; a digit is added on a clash.
    emails: set[str] = set()

    def new_person() -> tuple[str, str]:
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = SURNAMES[int(rng.integers(len(SURNAMES)))]
        local = f"{first}.{last}".lower()
        email, suffix = f"{local}@{domain}", 1
        while email in emails:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        emails.add(email)
        return email, f"{first} {last}"

    members: dict[str, list[list]] = {}
    for team in planned_teams:
        members[team.code] = [[*new_person(), team.code, ["staff"]] for _ in range(team.size)]
    # One manager per team (its first member); a few managers look after a sibling small team too.
    managers: dict[str, str] = {}
    by_service: dict[str, list[PlannedTeam]] = {}
    for team in planned_teams:
        by_service.setdefault(team.service_code, []).append(team)
    shared_left = max(1, teams // 12)
    for service_teams in by_service.values():
        for team in service_teams:
            if team.code in managers:
                continue
            manager = members[team.code][0]
            manager[3].append(f"manager:{team.code}")
            managers[team.code] = manager[0]
            sibling = next(
                (
                    t
                    for t in service_teams
                    if t.code not in managers and t.size <= 12 and team.size <= 12
                ),
                None,
            )
            if sibling is not None and shared_left > 0:
                manager[3].append(f"manager:{sibling.code}")
                managers[sibling.code] = manager[0]
                shared_left -= 1
    # One directorate head (the manager of the directorate's first team), HR and admin accounts.
    head_team = next(t for t in planned_teams if t.name not in (HR_TEAM_STEM, ICT_TEAM_STEM))
    members[head_team.code][0][3].append(f"manager:{head_team.directorate_code}")
    hr_team = next(t for t in planned_teams if t.name == HR_TEAM_STEM)
    ict_team = next(t for t in planned_teams if t.name == ICT_TEAM_STEM)
    for person in members[hr_team.code][1:3]:
        person[3].append("hr")
    for person in members[ict_team.code][1:2]:
        person[3].append("admin")
    people = [PlannedPerson(e, n, t, tuple(r)) for rows in members.values() for e, n, t, r in rows]
    hr_director, systems_admin = new_person(), new_person()
    people.append(PlannedPerson(*hr_director, None, ("hr",)))  # HR only: no team, so not staff
    people.append(PlannedPerson(*systems_admin, None, ("admin",)))  # admin only

    plants = choose_plants(
        np.random.default_rng([seed, 3]),
        [(t.code, t.size) for t in planned_teams],
        exclude={hr_team.code, ict_team.code},
        no_strain=no_strain,
    )
    strained = tuple(sorted(plant.team for plant in plants if plant.planted))
    return DemoPlan(
        seed=seed,
        council=council,
        organisation_code=org_code,
        domain=domain,
        units=tuple(units),
        teams=tuple(planned_teams),
        people=tuple(people),
        strained_team_codes=strained,
        managers=managers,
        plants=plants,
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
