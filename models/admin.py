"""What the Admin page does, each function checking the admin role itself (not only the page).

Threshold floors are checked by the caller with ``analytics.privacy.PrivacyRules`` (the one place that
knows them); this module stores the choice from the next week on and audits it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models import audit
from models.access import Viewer
from models.base import iso_week
from models.org import Person, RoleGrant, Unit
from models.org_csv import ImportSummary, export_org, import_org
from models.org_settings import get_org_setting, next_week, set_org_setting
from models.outcomes import OrgSetting

PRIVACY_KEYS: tuple[str, ...] = ("min_group_size", "min_comment_group_size", "pooling_period")


def organisations(session: Session, viewer: Viewer) -> list[Unit]:
    """The root units (one per organisation in this deployment)."""
    viewer.require("admin")
    return list(
        session.exec(select(Unit).where(col(Unit.parent_id).is_(None)).order_by(Unit.code)).all()
    )


def unit_tree(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """Every unit in tree order with its depth, kind and the number of people in it (teams)."""
    viewer.require("admin")
    units = session.exec(select(Unit)).all()
    headcount: dict[int, int] = {}
    for team_id in session.exec(select(Person.team_id).where(col(Person.team_id).is_not(None))).all():
        headcount[team_id] = headcount.get(team_id, 0) + 1
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    rows: list[dict[str, Any]] = []
    stack = [(unit, 0) for unit in sorted(children.get(None, []), key=lambda u: u.code, reverse=True)]
    while stack:
        unit, depth = stack.pop()
        rows.append(
            {
                "unit": "    " * depth + unit.name,
                "code": unit.code,
                "kind": unit.kind,
                "people": headcount.get(unit.id or -1, 0) if unit.kind == "team" else None,
            }
        )
        below = sorted(children.get(unit.id, []), key=lambda u: u.code, reverse=True)
        stack.extend((child, depth + 1) for child in below)
    return rows


def people_rows(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """Everyone with their team and roles (read-only listing)."""
    viewer.require("admin")
    codes = dict(session.exec(select(Unit.id, Unit.code)).all())
    names = dict(session.exec(select(Unit.id, Unit.name)).all())
    roles: dict[int, list[str]] = {}
    for grant in session.exec(select(RoleGrant)).all():
        text = f"manager of {codes.get(grant.unit_id)}" if grant.role == "manager" else grant.role
        roles.setdefault(grant.person_id, []).append(text)
    rows = []
    for person in session.exec(select(Person).order_by(Person.email)).all():
        held = (["staff"] if person.team_id is not None else []) + sorted(roles.get(person.id or -1, []))
        rows.append(
            {
                "email": person.email,
                "name": person.display_name,
                "team": names.get(person.team_id) if person.team_id else None,
                "team code": codes.get(person.team_id) if person.team_id else None,
                "roles": ", ".join(dict.fromkeys(held)),
            }
        )
    return rows


def import_org_csv(session: Session, viewer: Viewer, text: str | bytes) -> ImportSummary:
    """Import an organisation CSV as this admin (all-or-nothing; raises OrgImportError)."""
    viewer.require("admin")
    return import_org(session, text, actor=viewer.email)


def export_org_csv(session: Session, viewer: Viewer) -> str:
    viewer.require("admin")
    audit.record(session, actor=viewer.email, action="org_exported", target="organisation")
    return export_org(session)


def settings_in_force(
    session: Session, *, organisation_id: int, keys: tuple[str, ...], week: str, defaults: dict[str, Any]
) -> dict[str, Any]:
    """The value of each key in force in ``week`` (the deployment default when never set)."""
    return {
        key: get_org_setting(
            session, organisation_id=organisation_id, key=key, week=week, default=defaults.get(key)
        )
        for key in keys
    }


def pending_changes(
    session: Session, *, organisation_id: int, keys: tuple[str, ...], today: date
) -> list[dict[str, Any]]:
    """Changes scheduled for a later week than the current one (they apply from that week)."""
    current = iso_week(today)
    rows = session.exec(
        select(OrgSetting)
        .where(
            OrgSetting.organisation_id == organisation_id,
            col(OrgSetting.key).in_(keys),
            OrgSetting.effective_from > current,
        )
        .order_by(OrgSetting.effective_from, OrgSetting.key)
    ).all()
    return [
        {"setting": row.key, "value": row.value, "from week": row.effective_from, "set by": row.set_by}
        for row in rows
    ]


def schedule_settings(
    session: Session,
    viewer: Viewer,
    *,
    organisation_id: int,
    values: dict[str, Any],
    in_force: dict[str, Any],
    today: date | None = None,
) -> tuple[str, list[str]]:
    """Schedule the values that differ from what is in force (or already scheduled) for next week.

    Returns (the week they apply from, the keys changed). Each change is audited by
    ``set_org_setting``. The caller has validated the values against the floors.
    """
    viewer.require("admin")
    organisation = session.get(Unit, organisation_id)
    if organisation is None or organisation.parent_id is not None:
        raise ValueError(f"unit {organisation_id} is not an organisation")
    today = today or date.today()
    upcoming = next_week(iso_week(today))
    changed: list[str] = []
    for key, value in values.items():
        scheduled = get_org_setting(
            session, organisation_id=organisation_id, key=key, week=upcoming, default=in_force.get(key)
        )
        if value == scheduled:
            continue
        set_org_setting(
            session,
            organisation_id=organisation_id,
            key=key,
            value=value,
            actor=viewer.email,
            today=today,
        )
        changed.append(key)
    return upcoming, changed


def audit_entries(session: Session, viewer: Viewer, *, limit: int = 500) -> list[dict[str, Any]]:
    """The newest audit entries, for admins only."""
    viewer.require("admin")
    return [
        {
            "when": entry.at,
            "who": entry.actor,
            "action": entry.action,
            "target": entry.target,
            "detail": entry.detail,
        }
        for entry in audit.recent(session, limit=limit)
    ]
