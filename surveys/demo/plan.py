"""The demo plan: structure, people and planted strain, decided by the seed alone (no dates, no
database), so that tests and the strain evaluation read the same council the seed writes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from models.org_csv import COLUMNS
from surveys.demo.content import (
    COUNCILS,
    DIRECTORATES,
    FIRST_NAMES,
    HR_TEAM_STEM,
    ICT_TEAM_STEM,
    SURNAMES,
)
from surveys.demo_strain import Plant, choose_plants


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
