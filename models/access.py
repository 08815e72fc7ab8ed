"""Who is asking, and what they may reach. Every service that releases data takes a ``Viewer``.

Access is enforced here and in the services, never only by hiding pages. Least privilege: a
person with no grants is staff of their own team and nothing more; an unknown email gets nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from models.org import Person, RoleGrant, Unit


class AccessDenied(PermissionError):
    """The viewer's role does not allow this; the message is safe to show."""


@dataclass(frozen=True)
class Viewer:
    """A signed-in person as the services see them."""

    email: str
    display_name: str
    person_id: int | None
    team_id: int | None
    roles: frozenset[str]
    managed_unit_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_staff(self) -> bool:
        return "staff" in self.roles

    @property
    def is_manager(self) -> bool:
        return "manager" in self.roles and bool(self.managed_unit_ids)

    @property
    def is_hr(self) -> bool:
        return "hr" in self.roles

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def require(self, role: str) -> None:
        if role not in self.roles:
            raise AccessDenied(f"This needs the {role} role, which {self.email} does not have.")


def load_viewer(session: Session, email: str) -> Viewer | None:
    """The viewer for ``email`` (case-insensitive), or None if nobody has that email."""
    person = session.exec(select(Person).where(Person.email == email.strip().lower())).first()
    return None if person is None else _viewer_for(session, person)


def load_viewer_by_id(session: Session, person_id: int) -> Viewer | None:
    """The viewer for a person found by their sign-in link (``models.identity``), or None."""
    person = session.get(Person, person_id)
    return None if person is None else _viewer_for(session, person)


def _viewer_for(session: Session, person: Person) -> Viewer:
    """The person's roles as they stand now: read on every page view, never kept."""
    grants = session.exec(select(RoleGrant).where(RoleGrant.person_id == person.id)).all()
    roles = {grant.role for grant in grants}
    if person.team_id is not None:
        roles.add("staff")
    return Viewer(
        email=person.email,
        display_name=person.display_name,
        person_id=person.id,
        team_id=person.team_id,
        roles=frozenset(roles),
        managed_unit_ids=frozenset(g.unit_id for g in grants if g.role == "manager" and g.unit_id),
    )


def descendant_unit_ids(session: Session, unit_ids: set[int] | frozenset[int]) -> set[int]:
    """The given units and every unit below them."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.exec(select(Unit.id, Unit.parent_id)).all():
        children.setdefault(parent_id, []).append(unit_id)
    found: set[int] = set()
    stack = list(unit_ids)
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def managed_team_ids(session: Session, viewer: Viewer) -> set[int]:
    """Teams a manager may see: the units they manage and, for a larger unit, its teams."""
    if not viewer.is_manager:
        return set()
    below = descendant_unit_ids(session, viewer.managed_unit_ids)
    teams = session.exec(select(Unit.id).where(Unit.kind == "team")).all()
    return below & set(teams)


def _sees_every_team(viewer: Viewer) -> bool:
    return viewer.is_hr or viewer.is_admin


def require_team_access(session: Session, viewer: Viewer, team_id: int) -> None:
    """Refuse unless the viewer manages ``team_id`` or is HR/admin."""
    if _sees_every_team(viewer):
        return
    if viewer.is_manager and _manages_team(session, viewer, team_id):
        return
    raise AccessDenied("You can only see teams you manage.")


def require_teams_access(session: Session, viewer: Viewer, team_ids: Iterable[int]) -> None:
    """``require_team_access`` for several teams at once: one read of the tree, not one per team."""
    wanted = set(team_ids)
    if _sees_every_team(viewer) or wanted <= managed_team_ids(session, viewer):
        return
    raise AccessDenied("You can only see teams you manage.")


def _manages_team(session: Session, viewer: Viewer, team_id: int) -> bool:
    """Whether ``team_id`` is a team at or below a unit the viewer manages (the membership test
    of ``managed_team_ids``), by walking up from the team: a look-up per level, not a read of the
    whole tree on every dashboard call."""
    unit = session.get(Unit, team_id)
    if unit is None or unit.kind != "team":
        return False
    seen: set[int] = set()
    while unit is not None and unit.id not in seen:
        if unit.id in viewer.managed_unit_ids:
            return True
        seen.add(unit.id)  # type: ignore[arg-type]
        unit = session.get(Unit, unit.parent_id) if unit.parent_id is not None else None
    return False
