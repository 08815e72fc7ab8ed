"""Organisation CSV import and export: one file, one row per unit or person, all-or-nothing.

Columns: ``type`` (``unit`` or ``person``), ``code`` (a unit's code, or a person's email), ``name``,
``parent`` (a unit's parent unit code, empty for an organisation; a person's team code) and
``roles`` (a person's roles separated by ``;``: ``staff``, ``hr``, ``admin``, ``manager:UNITCODE``).
Rows may come in any order. The whole file is checked against itself and the database before
anything is written; any bad row means nothing changes and every bad row is reported with its line.

Re-importing updates units by code and people by email (name, parent/team, roles); nothing is
deleted. The ``staff`` role is implied by having a team, so it is not stored as a grant; export
writes it for every person with a team, so an exported file imports back to the same state.

Unit kinds are derived from the tree, never typed in: the root is the ``organisation``, a unit
with no units below it is a ``team`` (people belong to teams), a unit one level down is a
``directorate``, two levels down a ``service``, anything deeper a ``unit``. Leaves are teams even
at depth 1, so a small partner agency (organisation > teams) works without invented layers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from models import audit
from models.csv_input import Problem, decode, enough, quote, read_table, summarise
from models.csv_safe import write_rows
from models.org import Person, RoleGrant, Unit

COLUMNS: tuple[str, ...] = ("type", "code", "name", "parent", "roles")
ROLE_ORDER: tuple[str, ...] = ("staff", "manager", "hr", "admin")
EMAIL_PATTERN = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
UNIT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


RowError = Problem  # one problem with one line of the file (line 1 is the header)


class OrgImportError(ValueError):
    """The file was refused as a whole; ``errors`` lists every bad row. Messages are safe to show:
    user values in them are cut short (``models.csv_input.quote``)."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda error: (error.line, error.column or "", error.message))
        count = len(self.errors)
        super().__init__(
            summarise(
                self.errors,
                f"{count} problem{'s' if count != 1 else ''} found, nothing was changed:",
            )
        )


@dataclass(frozen=True)
class UnitRow:
    line: int
    code: str
    name: str
    parent: str | None


@dataclass(frozen=True)
class PersonRow:
    line: int
    email: str
    name: str
    team: str | None
    roles: tuple[str, ...]  # "hr", "admin", "staff" and "manager:CODE", de-duplicated
    managed: tuple[str, ...] = field(default=())  # unit codes from the manager roles


@dataclass(frozen=True)
class ImportSummary:
    units_created: int
    units_updated: int
    people_created: int
    people_updated: int
    grants: int  # role grants held by the imported people after the import

    def __str__(self) -> str:
        return (
            f"units: {self.units_created} created, {self.units_updated} updated; "
            f"people: {self.people_created} created, {self.people_updated} updated; "
            f"{self.grants} role grants"
        )


def unit_kinds(parent_of: dict[str, str | None]) -> dict[str, str]:
    """The kind of every unit from the shape of the tree (see the module docstring).

    ``parent_of`` maps each unit code to its parent's code (None for a root) and must be acyclic.
    """
    has_children = {parent for parent in parent_of.values() if parent is not None}
    kinds: dict[str, str] = {}
    for code in parent_of:
        depth, current = 0, parent_of[code]
        while current is not None:
            depth += 1
            current = parent_of.get(current)
        if depth == 0:
            kinds[code] = "organisation"
        elif code not in has_children:
            kinds[code] = "team"
        elif depth == 1:
            kinds[code] = "directorate"
        elif depth == 2:
            kinds[code] = "service"
        else:
            kinds[code] = "unit"
    return kinds


def _read_rows(data: str | bytes) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """(line, row) pairs with stripped cells, after the shared strict checks (``models.csv_input``);
    cells are un-escaped from the spreadsheet-safe form ``export_org`` writes."""
    text, problems = decode(data)
    if not text:
        return [], problems or [
            RowError(1, "the file is empty; expected the header " + ",".join(COLUMNS))
        ]
    table, table_problems = read_table(text, required=COLUMNS, unescape=True)
    return [(row.line, row.values) for row in table.rows], problems + table_problems


def parse_org_csv(text: str | bytes) -> tuple[list[UnitRow], list[PersonRow], list[RowError]]:
    """Check each row on its own and against the other rows of the file (not the database)."""
    raw_rows, errors = _read_rows(text)
    units: list[UnitRow] = []
    people: list[PersonRow] = []
    first_unit_line: dict[str, int] = {}
    first_person_line: dict[str, int] = {}
    for line, row in raw_rows:
        if enough(errors, line):
            break
        kind, code, name = row["type"].lower(), row["code"], row["name"]
        parent = row["parent"] or None
        if kind not in ("unit", "person"):
            errors.append(RowError(line, f"type must be 'unit' or 'person', not {quote(row['type'])}"))
            continue
        if not name:
            errors.append(RowError(line, "name is empty"))
        elif len(name) > 200:
            errors.append(RowError(line, "name is longer than 200 characters"))
        if kind == "unit":
            if not UNIT_CODE_PATTERN.match(code):
                errors.append(
                    RowError(
                        line,
                        f"unit code {quote(code)} must be 1-64 letters, digits, '.', '_' or '-' "
                        "(starting with a letter or digit)",
                    )
                )
                continue
            if code in first_unit_line:
                errors.append(
                    RowError(
                        line,
                        f"duplicate unit code {quote(code)} (first on line {first_unit_line[code]})",
                    )
                )
                continue
            first_unit_line[code] = line
            if row["roles"]:
                errors.append(RowError(line, "a unit has no roles; leave the roles column empty"))
            if parent == code:
                errors.append(RowError(line, f"unit {quote(code)} cannot be its own parent"))
            units.append(UnitRow(line, code, name, parent))
            continue
        email = code.lower()
        if not EMAIL_PATTERN.match(email) or len(email) > 254:
            errors.append(RowError(line, f"{quote(code)} is not an email address"))
            continue
        if email in first_person_line:
            errors.append(
                RowError(
                    line,
                    f"duplicate email {quote(email)} (first on line {first_person_line[email]})",
                )
            )
            continue
        first_person_line[email] = line
        roles: list[str] = []
        managed: list[str] = []
        for part in (p.strip() for p in row["roles"].split(";")):
            if not part:
                continue
            role, _, unit_code = part.partition(":")
            role, unit_code = role.strip().lower(), unit_code.strip()
            if role == "manager" and unit_code:
                canonical = f"manager:{unit_code}"
                if canonical not in roles:
                    roles.append(canonical)
                    managed.append(unit_code)
            elif role in ("staff", "hr", "admin") and not unit_code:
                if role not in roles:
                    roles.append(role)
            elif role == "manager":
                errors.append(RowError(line, "role 'manager' needs a unit: manager:UNITCODE"))
            else:
                errors.append(
                    RowError(
                        line,
                        f"unknown role {quote(part)} (use staff, hr, admin or manager:UNITCODE)",
                    )
                )
        if "staff" in roles and parent is None:
            errors.append(RowError(line, "role 'staff' needs a team in the parent column"))
        people.append(PersonRow(line, email, name, parent, tuple(roles), tuple(managed)))
    return units, people, errors


@dataclass(frozen=True)
class ParsedOrg:
    """A file read and checked on its own (``parse_org_file``), ready for ``import_org``."""

    units: list[UnitRow]
    people: list[PersonRow]
    errors: list[RowError]


def parse_org_file(data: str | bytes) -> ParsedOrg:
    """``parse_org_csv`` as one value, so a caller can parse before opening a write transaction."""
    return ParsedOrg(*parse_org_csv(data))


def _check_against_database(
    session: Session, units: list[UnitRow], people: list[PersonRow]
) -> list[RowError]:
    """Check references, cycles and teams over the tree as it would be after the import."""
    errors: list[RowError] = []
    existing = {unit.code: unit for unit in session.exec(select(Unit)).all()}
    id_to_code = {unit.id: unit.code for unit in existing.values()}
    parent_of: dict[str, str | None] = {
        code: id_to_code.get(unit.parent_id) for code, unit in existing.items()
    }
    line_of = {row.code: row.line for row in units}
    for row in units:
        parent_of[row.code] = row.parent
    for row in units:
        if row.parent is not None and row.parent != row.code and row.parent not in parent_of:
            errors.append(RowError(row.line, f"unknown parent unit {quote(row.parent)}"))

    # Cycles: follow each imported unit's chain of parents; a chain that returns to a unit is a loop.
    in_cycle: set[str] = set()
    for row in units:
        seen: list[str] = []
        current: str | None = row.code
        while current is not None and current in parent_of and current not in seen:
            seen.append(current)
            current = parent_of[current]
        if current is not None and current in seen:
            in_cycle.update(seen[seen.index(current) :])
    for code in sorted(in_cycle, key=lambda c: line_of.get(c, 0)):
        if code in line_of and parent_of[code] != code:
            loop = [code]
            step = parent_of[code]
            while step is not None and step != code and len(loop) < 50:
                loop.append(step)
                step = parent_of[step]
            errors.append(
                RowError(line_of[code], "the parents form a cycle: " + " > ".join([*loop, code]))
            )
    acyclic = {code: (None if code in in_cycle else parent) for code, parent in parent_of.items()}
    kinds = unit_kinds(acyclic)

    people_by_email = {row.email: row for row in people}
    for row in people:
        if row.team is not None:
            if row.team not in parent_of:
                errors.append(RowError(row.line, f"unknown team {quote(row.team)}"))
            elif row.team not in in_cycle and kinds[row.team] != "team":
                errors.append(
                    RowError(
                        row.line,
                        f"{quote(row.team)} has units below it, so it is not a team; "
                        "people belong to teams",
                    )
                )
        for unit_code in row.managed:
            if unit_code not in parent_of:
                errors.append(RowError(row.line, f"unknown manager unit {quote(unit_code)}"))

    # People already in the database and not in the file must still sit in a team afterwards.
    stranded: dict[str, list[str]] = {}
    for email, team_id in session.exec(select(Person.email, Person.team_id)).all():
        if email in people_by_email or team_id is None:
            continue
        team_code = id_to_code.get(team_id)
        if team_code is not None and team_code not in in_cycle and kinds[team_code] != "team":
            stranded.setdefault(team_code, []).append(email)
    for row in units:
        if row.parent in stranded:
            errors.append(
                RowError(
                    row.line,
                    f"putting {row.code!r} below {row.parent!r} would leave its "
                    f"{len(stranded[row.parent])} people outside any team; move them first",
                )
            )
    return errors


def import_org(session: Session, text: str | bytes | ParsedOrg, *, actor: str) -> ImportSummary:
    """Check the whole file, then apply it in the caller's transaction (the caller commits).

    Raises OrgImportError listing every bad row, having changed nothing.
    """
    parsed = text if isinstance(text, ParsedOrg) else parse_org_file(text)
    units, people, errors = parsed.units, parsed.people, list(parsed.errors)
    if not units and not people and not errors:
        errors.append(RowError(2, "the file has a header but no rows"))
    errors += _check_against_database(session, units, people)
    if errors:
        raise OrgImportError(errors)

    by_code = {unit.code: unit for unit in session.exec(select(Unit)).all()}
    code_of = {unit.id: code for code, unit in by_code.items()}
    created_units = updated_units = 0
    for row in units:
        unit = by_code.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, name=row.name, kind="team")
            by_code[row.code] = unit
            created_units += 1
        elif unit.name != row.name or code_of.get(unit.parent_id) != row.parent:
            updated_units += 1
        unit.name = row.name
        session.add(unit)
    session.flush()  # ids for new units
    new_parent = {row.code: row.parent for row in units}
    for code, parent in new_parent.items():
        by_code[code].parent_id = by_code[parent].id if parent is not None else None
        session.add(by_code[code])
    session.flush()
    _refresh_kinds(session)

    by_email = {person.email: person for person in session.exec(select(Person)).all()}
    created_people = updated_people = grant_count = 0
    for row in people:
        team_id = by_code[row.team].id if row.team is not None else None
        person = by_email.get(row.email)
        if person is None:
            person = Person(email=row.email, display_name=row.name, team_id=team_id)
            created_people += 1
        elif person.display_name != row.name or person.team_id != team_id:
            updated_people += 1
        person.display_name, person.team_id = row.name, team_id
        session.add(person)
        by_email[row.email] = person
    session.flush()
    grants_by_person: dict[int, list[RoleGrant]] = {}
    for grant in session.exec(select(RoleGrant)).all():  # one query, not one per person
        grants_by_person.setdefault(grant.person_id, []).append(grant)
    for row in people:
        person = by_email[row.email]
        wanted = {(role, None) for role in row.roles if role in ("hr", "admin")}
        wanted |= {("manager", by_code[code].id) for code in row.managed}
        current = grants_by_person.get(person.id or -1, [])
        held = {(grant.role, grant.unit_id): grant for grant in current}
        for key, grant in held.items():
            if key not in wanted:
                session.delete(grant)
        for role, unit_id in wanted - held.keys():
            session.add(RoleGrant(person_id=person.id, role=role, unit_id=unit_id))
        grant_count += len(wanted)
    session.flush()
    summary = ImportSummary(created_units, updated_units, created_people, updated_people, grant_count)
    audit.record(
        session, actor=actor, action="org_imported", target="organisation", detail=summary.__dict__
    )
    return summary


def _refresh_kinds(session: Session) -> None:
    """Re-derive every unit's kind: adding a unit below a team turns that team into a service."""
    all_units = session.exec(select(Unit)).all()
    id_to_code = {unit.id: unit.code for unit in all_units}
    kinds = unit_kinds({unit.code: id_to_code.get(unit.parent_id) for unit in all_units})
    for unit in all_units:
        if unit.kind != kinds[unit.code]:
            unit.kind = kinds[unit.code]
            session.add(unit)


def export_rows(session: Session) -> list[dict[str, str]]:
    """The organisation as CSV rows: units parents first, then people by team and email."""
    all_units = session.exec(select(Unit)).all()
    id_to_code = {unit.id: unit.code for unit in all_units}
    children: dict[int | None, list[Unit]] = {}
    for unit in all_units:
        children.setdefault(unit.parent_id, []).append(unit)
    rows: list[dict[str, str]] = []
    stack = sorted(children.get(None, []), key=lambda u: u.code, reverse=True)
    while stack:
        unit = stack.pop()
        rows.append(
            {
                "type": "unit",
                "code": unit.code,
                "name": unit.name,
                "parent": id_to_code.get(unit.parent_id, "") if unit.parent_id else "",
                "roles": "",
            }
        )
        stack.extend(sorted(children.get(unit.id, []), key=lambda u: u.code, reverse=True))
    grants: dict[int, list[RoleGrant]] = {}
    for grant in session.exec(select(RoleGrant)).all():
        grants.setdefault(grant.person_id, []).append(grant)
    people = sorted(
        session.exec(select(Person)).all(), key=lambda p: (id_to_code.get(p.team_id, ""), p.email)
    )
    for person in people:
        rows.append(
            {
                "type": "person",
                "code": person.email,
                "name": person.display_name,
                "parent": id_to_code.get(person.team_id, "") if person.team_id else "",
                "roles": ";".join(_role_texts(person, grants.get(person.id or -1, []), id_to_code)),
            }
        )
    return rows


def _role_texts(
    person: Person, grants: Iterable[RoleGrant], id_to_code: dict[int | None, str]
) -> list[str]:
    texts = {"staff"} if person.team_id is not None else set()
    for grant in grants:
        if grant.role == "manager":
            texts.add(f"manager:{id_to_code[grant.unit_id]}")
        elif grant.role != "staff" or person.team_id is not None:
            texts.add(grant.role)
    return sorted(texts, key=lambda text: (ROLE_ORDER.index(text.partition(":")[0]), text))


def export_org(session: Session) -> str:
    """The organisation in the import format, so ``import_org(export_org())`` changes nothing.

    Text cells are spreadsheet-safe (``models.csv_safe``); the importer undoes that escape."""
    return write_rows(COLUMNS, ([row[column] for column in COLUMNS] for row in export_rows(session)))
