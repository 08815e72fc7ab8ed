"""The organisation: a tree of units, the people in its teams and what each may do.

An organisation is the root unit of its tree (``parent_id`` is NULL). Several organisations can
live in one deployment so partner agencies can share outcome objectives.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlalchemy import CheckConstraint, UniqueConstraint
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


class PersonCreate(PersonBase):
    pass


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
