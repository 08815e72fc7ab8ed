"""The organisation: a tree of units, the people in its teams and what each may do.

An organisation is the root unit of its tree (``parent_id`` is NULL). Several organisations can
live in one deployment so partner agencies can share outcome objectives.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sqlalchemy import BigInteger, CheckConstraint, UniqueConstraint, event
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

UnitKind = Literal["organisation", "directorate", "service", "team", "unit"]
Role = Literal["staff", "manager", "hr", "admin"]
ROLES: tuple[str, ...] = ("staff", "manager", "hr", "admin")


class UnitBase(SQLModel):
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="team", max_length=20)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True, ondelete="RESTRICT")


class Unit(UnitBase, table=True):
    """One node of an organisation tree: organisation > directorate > service > team (any depth)."""

    __table_args__ = (
        CheckConstraint(
            "kind IN ('organisation', 'directorate', 'service', 'team', 'unit')", name="kind_valid"
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # On an organisation (root) unit: the interface language of those who chose none
    # (models/language.py); None means English.
    default_language: str | None = Field(default=None, max_length=8)


class UnitCreate(UnitBase):
    pass


class PersonBase(SQLModel):
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(max_length=200)
    team_id: int | None = Field(default=None, foreign_key="unit.id", index=True, ondelete="SET NULL")
    active_from: date | None = None
    active_to: date | None = None


class Person(PersonBase, table=True):
    """A member of staff. Never referenced by a pulse response."""

    __table_args__ = (
        CheckConstraint(
            "active_to IS NULL OR active_from IS NULL OR active_to >= active_from", name="active_range"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    # The interface language the person chose (models/language.py); None: the organisation's.
    language: str | None = Field(default=None, max_length=8)


class PersonCreate(PersonBase):
    pass


class PeopleChanges(SQLModel, table=True):
    """How many times anyone was added to, renamed in or removed from the people table: one row,
    counted by triggers on ``person`` whatever writes to it (the app, an import, SQL by hand).
    Comment scrubbing reads this one row to know its cached names are still everyone's, instead
    of fingerprinting the whole table (4.5 ms at 20,000 people, inside every write batch)."""

    __tablename__ = "people_changes"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: int = Field(default=1, primary_key=True)
    changes: int = Field(default=0, sa_type=BigInteger)


# The counting triggers, per dialect (the migration that added them keeps its own frozen copy).
# SQLite has row triggers only; PostgreSQL counts once per statement, which is all a reader needs:
# any change means "look again".
PEOPLE_CHANGE_TRIGGERS = {
    "sqlite": tuple(
        f"CREATE TRIGGER IF NOT EXISTS person_{action}_counted AFTER {action.upper()}{column} "
        "ON person BEGIN UPDATE people_changes SET changes = changes + 1 WHERE id = 1; END"
        for action, column in (("insert", ""), ("update", " OF display_name"), ("delete", ""))
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION count_people_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE people_changes SET changes = changes + 1 WHERE id = 1; RETURN NULL; END $$",
        "DROP TRIGGER IF EXISTS person_changes_counted ON person",
        "CREATE TRIGGER person_changes_counted "
        "AFTER INSERT OR DELETE OR UPDATE OF display_name ON person "
        "FOR EACH STATEMENT EXECUTE FUNCTION count_people_change()",
    ),
}


@event.listens_for(SQLModel.metadata, "after_create")
def _count_people_changes(_metadata: Any, connection: Connection, **_: Any) -> None:
    """``metadata.create_all``: the counter's one row and the triggers that keep it."""
    if not {"person", "people_changes"} <= set(connection.dialect.get_table_names(connection)):
        return
    connection.exec_driver_sql(
        "INSERT INTO people_changes (id, changes) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
    )
    for statement in PEOPLE_CHANGE_TRIGGERS.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


class RoleGrant(SQLModel, table=True):
    """A role a person holds; a manager grant names the unit managed (a team or a larger unit)."""

    __tablename__ = "role_grant"
    __table_args__ = (
        CheckConstraint("role IN ('staff', 'manager', 'hr', 'admin')", name="role_valid"),
        CheckConstraint(
            "(role = 'manager' AND unit_id IS NOT NULL) OR (role <> 'manager' AND unit_id IS NULL)",
            name="manager_has_unit",
        ),
        UniqueConstraint("person_id", "role", "unit_id", name="uq_role_grant_person_role_unit"),
    )
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True, ondelete="CASCADE")
