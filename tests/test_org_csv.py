"""Organisation CSV import/export: all-or-nothing, every bad row reported, exports round-trip."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from models.access import AccessDenied, load_viewer, managed_team_ids, require_team_access
from models.db import make_engine, read_session, write_session
from models.org import Person, RoleGrant, Unit
from models.org_csv import OrgImportError, export_org, import_org, parse_org_csv, unit_kinds
from models.outcomes import AuditEntry

SAMPLE = (Path(__file__).resolve().parents[1] / "data" / "sample_org.csv").read_text()
HEADER = "type,code,name,parent,roles\n"


def _counts(engine: Engine) -> tuple[int, int, int]:
    with read_session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Unit)).one(),
            session.exec(select(func.count()).select_from(Person)).one(),
            session.exec(select(func.count()).select_from(RoleGrant)).one(),
        )


def _import(engine: Engine, text: str) -> None:
    with write_session(engine) as session:
        import_org(session, text, actor="admin@test")


def test_sample_file_builds_the_tree_with_derived_kinds_and_roles(engine: Engine) -> None:
    _import(engine, SAMPLE)
    with read_session(engine) as session:
        kinds = dict(session.exec(select(Unit.code, Unit.kind)).all())
        assert kinds == {
            "WVC": "organisation",
            "ADULTS": "directorate",
            "ADULTS-CARE": "service",
            "ADULTS-CARE-NORTH": "team",
            "ADULTS-CARE-SOUTH": "team",
            "RES": "directorate",
            "RES-PEOPLE": "service",
            "RES-PEOPLE-HR": "team",
        }
        head = load_viewer(session, "Rhys.Jones@westmere.gov.uk")
        assert head is not None and head.roles == {"staff", "manager"}
        codes = {session.get(Unit, team_id).code for team_id in managed_team_ids(session, head)}
        assert codes == {"ADULTS-CARE-NORTH", "ADULTS-CARE-SOUTH"}
        hr = load_viewer(session, "priya.patel@westmere.gov.uk")
        assert hr is not None and hr.roles == {"staff", "hr"}
        admin = load_viewer(session, "it.admin@westmere.gov.uk")
        assert admin is not None and admin.roles == {"admin"} and admin.team_id is None
        # staff is implied by the team, so it is not stored as a grant
        assert session.exec(select(RoleGrant).where(RoleGrant.role == "staff")).all() == []
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "org_imported")).one()
    assert _counts(engine) == (8, 9, 7)


def test_rows_in_any_order_give_the_same_organisation(engine: Engine) -> None:
    header, *rows = SAMPLE.strip().splitlines()
    _import(engine, "\n".join([header, *reversed(rows)]) + "\n")
    with read_session(engine) as session:
        assert export_org(session) == _export_of_sample()


def _export_of_sample() -> str:
    """The export of the sample imported in file order, from a private SQLite database."""
    with tempfile.TemporaryDirectory() as folder:
        other = make_engine(f"sqlite:///{folder}/x.db")
        SQLModel.metadata.create_all(other)
        _import(other, SAMPLE)
        with read_session(other) as session:
            text = export_org(session)
        other.dispose()
    return text


def test_export_round_trips_and_reimport_changes_nothing(engine: Engine) -> None:
    _import(engine, SAMPLE)
    with read_session(engine) as session:
        first = export_org(session)
    assert first.splitlines()[0] == "type,code,name,parent,roles"
    assert "person,rhys.jones@westmere.gov.uk,Rhys Jones,ADULTS-CARE-SOUTH,staff;manager:ADULTS" in first
    assert 'unit,ADULTS,"Adults, Health & Wellbeing",WVC,' in first
    with write_session(engine) as session:
        summary = import_org(session, first, actor="admin@test")
    assert (summary.units_created, summary.units_updated) == (0, 0)
    assert (summary.people_created, summary.people_updated) == (0, 0)
    with read_session(engine) as session:
        assert export_org(session) == first
    assert sorted(first.splitlines()[1:]) == sorted(SAMPLE.strip().splitlines()[1:])


def test_reimport_updates_people_and_units_by_code_and_email(engine: Engine) -> None:
    _import(engine, SAMPLE)
    changes = (
        HEADER
        + "unit,ADULTS-CARE-SOUTH,Community Care Team South & East,ADULTS-CARE,\n"
        + "person,TOM.EVANS@westmere.gov.uk,Tom Evans-Smith,ADULTS-CARE-SOUTH,"
        + "staff;manager:ADULTS-CARE-SOUTH\n"
        + "person,rhys.jones@westmere.gov.uk,Rhys Jones,ADULTS-CARE-SOUTH,staff\n"
    )
    with write_session(engine) as session:
        summary = import_org(session, changes, actor="admin@test")
    assert (summary.units_created, summary.units_updated) == (0, 1)
    assert (summary.people_created, summary.people_updated) == (0, 1)
    with read_session(engine) as session:
        south = session.exec(select(Unit).where(Unit.code == "ADULTS-CARE-SOUTH")).one()
        assert south.name == "Community Care Team South & East"
        tom = load_viewer(session, "tom.evans@westmere.gov.uk")
        assert tom is not None and tom.team_id == south.id and tom.managed_unit_ids == {south.id}
        assert tom.display_name == "Tom Evans-Smith"
        rhys = load_viewer(session, "rhys.jones@westmere.gov.uk")
        assert rhys is not None and rhys.roles == {"staff"}  # the manager grant was withdrawn
    assert _counts(engine) == (8, 9, 7)


BAD_FILE = (
    HEADER
    + "unit,WVC,Westmere Valley Council,,\n"  # line 2: fine
    + "unit,TEAM-A,Team A,NOWHERE,\n"  # line 3: unknown parent
    + "unit,LOOP-1,Loop one,LOOP-2,\n"  # line 4: cycle
    + "unit,LOOP-2,Loop two,LOOP-1,\n"  # line 5: cycle
    + "unit,TEAM-B,Team B,WVC,\n"  # line 6: fine
    + "person,ann@x.gov.uk,Ann,TEAM-B,staff\n"  # line 7: fine
    + "person,ANN@x.gov.uk,Ann again,TEAM-B,staff\n"  # line 8: duplicate email
    + "person,bob@x.gov.uk,Bob,TEAM-B,staff;boss\n"  # line 9: bad role
    + "person,cat@x.gov.uk,Cat,TEAM-B,manager:TEAM-Z\n"  # line 10: unknown manager unit
    + "unit,TEAM-B,Team B copy,WVC,\n"  # line 11: duplicate unit code
    + "person,dan@x.gov.uk,Dan,GHOST,staff\n"  # line 12: unknown team
    + "person,eve@x.gov.uk,Eve,WVC,staff\n"  # line 13: not a team (has units below)
    + "person,not-an-email,Fay,TEAM-B,staff\n"  # line 14: not an email
    + "group,G1,Group,,\n"  # line 15: bad type
)


def test_bad_rows_are_all_listed_with_line_numbers_and_nothing_changes(engine: Engine) -> None:
    _import(engine, SAMPLE)
    before = _counts(engine)
    with pytest.raises(OrgImportError) as raised:
        _import(engine, BAD_FILE)
    by_line: dict[int, list[str]] = {}
    for error in raised.value.errors:
        by_line.setdefault(error.line, []).append(error.message)
    assert sorted(by_line) == [3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15]
    assert "unknown parent unit 'NOWHERE'" in by_line[3]
    assert any("cycle" in message for message in by_line[4] + by_line[5])
    assert any("duplicate email" in message and "line 7" in message for message in by_line[8])
    assert any("unknown role 'boss'" in message for message in by_line[9])
    assert any("unknown manager unit 'TEAM-Z'" in message for message in by_line[10])
    assert any("duplicate unit code" in message for message in by_line[11])
    assert any("unknown team 'GHOST'" in message for message in by_line[12])
    assert any("not a team" in message for message in by_line[13])
    assert "line 3: unknown parent unit 'NOWHERE'" in str(raised.value)
    assert _counts(engine) == before
    with read_session(engine) as session:
        assert session.exec(select(Unit).where(Unit.code == "TEAM-B")).first() is None


def test_missing_column_is_reported_on_the_header_line(session: Session) -> None:
    with pytest.raises(OrgImportError) as raised:
        import_org(session, "type,code,name,parent\nunit,A,A,,\n", actor="t")
    assert [(e.line, e.message.split(" (")[0]) for e in raised.value.errors] == [
        (1, "missing column(s) roles")
    ]
    assert session.exec(select(func.count()).select_from(Unit)).one() == 0


def test_cycle_through_an_existing_unit_is_refused(engine: Engine) -> None:
    _import(engine, SAMPLE)
    before = _counts(engine)
    # ADULTS-CARE is below ADULTS in the database; making ADULTS its child closes a loop.
    with pytest.raises(OrgImportError) as raised:
        _import(engine, HEADER + "unit,ADULTS,Adults,ADULTS-CARE,\n")
    assert [e.line for e in raised.value.errors] == [2]
    assert "cycle" in raised.value.errors[0].message
    assert _counts(engine) == before


def test_adding_a_unit_below_a_team_with_people_is_refused(engine: Engine) -> None:
    _import(engine, SAMPLE)
    with pytest.raises(OrgImportError) as raised:
        _import(engine, HEADER + "unit,SUB,Sub team,ADULTS-CARE-NORTH,\n")
    assert raised.value.errors[0].line == 2
    assert "outside any team" in raised.value.errors[0].message


def test_new_units_below_an_empty_team_turn_it_into_a_service(engine: Engine) -> None:
    _import(engine, SAMPLE + "unit,RES-ICT,ICT,RES,\n")
    with read_session(engine) as session:
        assert session.exec(select(Unit.kind).where(Unit.code == "RES-ICT")).one() == "team"
    _import(engine, HEADER + "unit,RES-ICT-DESK,Service desk,RES-ICT,\n")
    with read_session(engine) as session:
        kinds = dict(session.exec(select(Unit.code, Unit.kind)).all())
    assert (kinds["RES-ICT"], kinds["RES-ICT-DESK"]) == ("service", "team")


def test_unit_kinds_follow_the_tree() -> None:
    parent_of = {"ORG": None, "D": "ORG", "S": "D", "U": "S", "T": "U", "SMALL": "ORG", "LONE": None}
    assert unit_kinds(parent_of) == {
        "ORG": "organisation",
        "D": "directorate",
        "S": "service",
        "U": "unit",
        "T": "team",
        "SMALL": "team",  # a leaf directly below the organisation is a team
        "LONE": "organisation",
    }


def test_parse_accepts_a_byte_order_mark_and_blank_lines() -> None:
    units, people, errors = parse_org_csv(
        "\ufeff" + HEADER + "\nunit,A,A,,\n\nperson,x@y.uk,X,A,STAFF; HR ;\n"
    )
    assert errors == []
    assert [u.code for u in units] == ["A"]
    assert people[0].roles == ("staff", "hr")


def test_team_access_agrees_with_the_managed_teams_for_every_person_and_unit(engine: Engine) -> None:
    """``require_team_access`` walks up from the team; ``managed_team_ids`` reads down from the
    grants. Both must give every manager the same teams, and nothing that is not a team."""
    extra = (
        "person,dir.head@westmere.gov.uk,Dir Head,RES-PEOPLE-HR,manager:RES\n"
        "person,team.lead@westmere.gov.uk,Team Lead,ADULTS-CARE-SOUTH,manager:ADULTS-CARE-NORTH\n"
    )
    _import(engine, SAMPLE + extra)
    with read_session(engine) as session:
        unit_ids = session.exec(select(Unit.id)).all()
        for email in session.exec(select(Person.email)).all():
            viewer = load_viewer(session, email)
            assert viewer is not None
            expected = (
                set(unit_ids) if viewer.is_hr or viewer.is_admin else managed_team_ids(session, viewer)
            )
            allowed = set()
            for unit_id in unit_ids:
                try:
                    require_team_access(session, viewer, unit_id)
                except AccessDenied:
                    continue
                allowed.add(unit_id)
            assert allowed == expected, email
        codes = {
            session.get(Unit, team_id).code
            for team_id in managed_team_ids(session, load_viewer(session, "dir.head@westmere.gov.uk"))
        }
        assert codes == {"RES-PEOPLE-HR"}
