"""Admin services: only admins reach them; settings apply from next week and are audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import admin
from models.access import AccessDenied, Viewer, load_viewer
from models.db import read_session, write_session
from models.org import Unit
from models.org_csv import import_org
from models.outcomes import AuditEntry, OrgSetting

SAMPLE = (Path(__file__).resolve().parents[1] / "data" / "sample_org.csv").read_text()
TODAY = date(2026, 11, 26)  # 2026-W48, so changes apply from 2026-W49
DEFAULTS = {"min_group_size": 5, "min_comment_group_size": 10, "pooling_weeks": 4}


@pytest.fixture
def organisation(engine: Engine) -> int:
    with write_session(engine) as session:
        import_org(session, SAMPLE, actor="setup")
    with read_session(engine) as session:
        return session.exec(select(Unit.id).where(Unit.code == "WVC")).one()


def _viewer(session: Session, email: str) -> Viewer:
    viewer = load_viewer(session, email)
    assert viewer is not None
    return viewer


def test_every_admin_service_refuses_a_non_admin(engine: Engine, organisation: int) -> None:
    with write_session(engine) as session:
        hr = _viewer(session, "priya.patel@westmere.gov.uk")
        calls = [
            lambda: admin.organisations(session, hr),
            lambda: admin.unit_tree(session, hr),
            lambda: admin.people_rows(session, hr),
            lambda: admin.import_org_csv(session, hr, SAMPLE),
            lambda: admin.export_org_csv(session, hr),
            lambda: admin.audit_entries(session, hr),
            lambda: admin.schedule_settings(
                session,
                hr,
                organisation_id=organisation,
                values={"min_group_size": 7},
                in_force=DEFAULTS,
            ),
        ]
        for call in calls:
            with pytest.raises(AccessDenied):
                call()
    with read_session(engine) as session:
        assert session.exec(select(OrgSetting)).all() == []


@pytest.mark.usefixtures("organisation")
def test_admin_sees_the_tree_and_people(engine: Engine) -> None:
    with read_session(engine) as session:
        it = _viewer(session, "it.admin@westmere.gov.uk")
        tree = admin.unit_tree(session, it)
        people = admin.people_rows(session, it)
    assert [row["code"] for row in tree][:4] == ["WVC", "ADULTS", "ADULTS-CARE", "ADULTS-CARE-NORTH"]
    assert tree[3]["unit"].startswith(" " * 12) and tree[3]["people"] == 3
    rhys = next(row for row in people if row["email"] == "rhys.jones@westmere.gov.uk")
    assert rhys["roles"] == "staff, manager of ADULTS"


def test_threshold_change_applies_from_next_week_and_is_audited(
    engine: Engine, organisation: int
) -> None:
    values = {"min_group_size": 7, "min_comment_group_size": 10, "pooling_weeks": 4}
    with write_session(engine) as session:
        it = _viewer(session, "it.admin@westmere.gov.uk")
        week, changed = admin.schedule_settings(
            session, it, organisation_id=organisation, values=values, in_force=DEFAULTS, today=TODAY
        )
    assert (week, changed) == ("2026-W49", ["min_group_size"])  # unchanged values are not rewritten
    with read_session(engine) as session:
        keys = admin.PRIVACY_KEYS
        now = admin.settings_in_force(
            session, organisation_id=organisation, keys=keys, week="2026-W48", defaults=DEFAULTS
        )
        later = admin.settings_in_force(
            session, organisation_id=organisation, keys=keys, week="2026-W49", defaults=DEFAULTS
        )
        pending = admin.pending_changes(session, organisation_id=organisation, keys=keys, today=TODAY)
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "setting_changed")).all()
    assert now["min_group_size"] == 5 and later["min_group_size"] == 7
    assert [(p["setting"], p["value"], p["from week"]) for p in pending] == [
        ("min_group_size", "7", "2026-W49")
    ]
    assert [(a.actor, "min_group_size" in a.detail) for a in audit] == [
        ("it.admin@westmere.gov.uk", True)
    ]


@pytest.mark.usefixtures("organisation")
def test_settings_are_only_for_an_organisation(engine: Engine) -> None:
    with write_session(engine) as session:
        it = _viewer(session, "it.admin@westmere.gov.uk")
        team = session.exec(select(Unit.id).where(Unit.code == "ADULTS-CARE-NORTH")).one()
        with pytest.raises(ValueError, match="not an organisation"):
            admin.schedule_settings(
                session, it, organisation_id=team, values={"min_group_size": 6}, in_force=DEFAULTS
            )
