"""Where the interface language is stored: ``person.language`` (a person's own choice) and
``unit.default_language`` on an organisation's root unit (set by an admin for everyone who has
not chosen). Either may be NULL; ``models.language.choose_language`` is the rule.

The choice takes effect at once: it is a reader's preference, not a privacy setting, so it is not
scheduled for the next period like ``models/org_settings``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from models import audit
from models.access import Viewer
from models.language import DEFAULT_LANGUAGE, LANGUAGES, choose_language
from models.org import Person, Unit


def _checked(language: str | None) -> str | None:
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    return language


def organisation_id_of(session: Session, unit_id: int | None) -> int | None:
    """The root unit above ``unit_id``; with no unit (HR, admins outside teams), the only
    organisation of a single-organisation deployment, else None."""
    if unit_id is None:
        roots = session.exec(select(Unit.id).where(col(Unit.parent_id).is_(None)).limit(2)).all()
        return roots[0] if len(roots) == 1 else None
    seen: set[int] = set()
    unit = session.get(Unit, unit_id)
    while unit is not None and unit.parent_id is not None and unit.id not in seen:
        seen.add(unit.id)  # type: ignore[arg-type]
        unit = session.get(Unit, unit.parent_id)
    return None if unit is None else unit.id


def organisation_default(session: Session, organisation_id: int | None) -> str | None:
    """The organisation's default interface language, or None when the admin has set none."""
    if organisation_id is None:
        return None
    unit = session.get(Unit, organisation_id)
    return None if unit is None else unit.default_language


def language_for_person(session: Session, person_id: int) -> str:
    """The language ``person_id`` reads the interface in (``choose_language``)."""
    person = session.get(Person, person_id)
    if person is None:
        return DEFAULT_LANGUAGE
    default = organisation_default(session, organisation_id_of(session, person.team_id))
    return choose_language(person.language, default)


def set_person_language(session: Session, person_id: int, language: str | None) -> None:
    """Save the person's own choice (None: follow the organisation's default again)."""
    person = session.get(Person, person_id)
    if person is None:
        raise ValueError(f"person {person_id} does not exist")
    person.language = _checked(language)
    session.add(person)


def set_organisation_default(
    session: Session, viewer: Viewer, *, organisation_id: int, language: str | None
) -> None:
    """The admin's default for everyone in the organisation who has not chosen; audited.
    ``AccessDenied`` for anyone but an admin."""
    viewer.require("admin")
    unit = session.get(Unit, organisation_id)
    if unit is None or unit.parent_id is not None:
        raise ValueError(f"unit {organisation_id} is not an organisation")
    unit.default_language = _checked(language)
    session.add(unit)
    audit.record(
        session,
        actor=viewer.email,
        action="setting_changed",
        target=f"organisation {organisation_id}",
        detail={"key": "default_language", "value": language},
    )
