"""Which language a person reads, where it is stored, and what the interface does with it."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from streamlit.testing.v1 import AppTest

from app import i18n
from app.i18n import _, current_language, format_date, format_decimal, format_percent, use_language
from app.language import CONTROL_KEY
from app.settings import get_settings
from models.access import AccessDenied, Viewer
from models.db import make_engine
from models.language import DEFAULT_LANGUAGE, ENGLISH, WELSH, choose_language
from models.migrate import alembic_config, upgrade_to_head
from models.org import Person, Unit
from models.org_language import (
    language_for_person,
    organisation_default,
    organisation_id_of,
    set_organisation_default,
    set_person_language,
)
from models.outcomes import AuditEntry

LANGUAGE_REVISION, BEFORE_LANGUAGE = "c7a41e2d9b53", "9561b0d2db89"
MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
ADMIN = Viewer("admin@example.org", "Admin", None, None, frozenset({"admin"}))
STAFF = Viewer("staff@example.org", "Staff", 1, 3, frozenset({"staff"}))


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    use_language(ENGLISH)


def _org(session: Session) -> tuple[int, int, int]:
    """An organisation > directorate > team, and a person in the team; returns their ids."""
    organisation = Unit(code="ORG", name="Council", kind="organisation")
    session.add(organisation)
    session.flush()
    directorate = Unit(code="DIR", name="Directorate", kind="directorate", parent_id=organisation.id)
    session.add(directorate)
    session.flush()
    team = Unit(code="T1", name="Team", kind="team", parent_id=directorate.id)
    session.add(team)
    session.flush()
    person = Person(email="staff@example.org", display_name="Staff Member", team_id=team.id)
    session.add(person)
    session.commit()
    return organisation.id, team.id, person.id  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("chosen", "default", "expected"),
    [
        (None, None, ENGLISH),
        (None, WELSH, WELSH),
        (ENGLISH, WELSH, ENGLISH),  # the person's choice wins over the organisation's
        (WELSH, None, WELSH),
        ("fr", WELSH, WELSH),  # a code no longer offered counts as no choice
        ("fr", "de", DEFAULT_LANGUAGE),
    ],
)
def test_person_choice_then_organisation_default_then_english(
    chosen: str | None, default: str | None, expected: str
) -> None:
    assert choose_language(chosen, default) == expected


def test_language_follows_the_organisation_until_the_person_chooses(session: Session) -> None:
    organisation_id, team_id, person_id = _org(session)
    assert organisation_id_of(session, team_id) == organisation_id
    assert organisation_id_of(session, None) == organisation_id  # one organisation: HR outside teams
    assert language_for_person(session, person_id) == ENGLISH

    set_organisation_default(session, ADMIN, organisation_id=organisation_id, language=WELSH)
    session.commit()
    assert organisation_default(session, organisation_id) == WELSH
    assert language_for_person(session, person_id) == WELSH

    set_person_language(session, person_id, ENGLISH)
    session.commit()
    assert language_for_person(session, person_id) == ENGLISH
    set_person_language(session, person_id, None)  # back to following the organisation
    session.commit()
    assert language_for_person(session, person_id) == WELSH


def test_organisation_default_is_admins_only_audited_and_only_on_an_organisation(
    session: Session,
) -> None:
    organisation_id, team_id, person_id = _org(session)
    with pytest.raises(AccessDenied):
        set_organisation_default(session, STAFF, organisation_id=organisation_id, language=WELSH)
    with pytest.raises(ValueError, match="not an organisation"):
        set_organisation_default(session, ADMIN, organisation_id=team_id, language=WELSH)
    with pytest.raises(ValueError, match="unknown language"):
        set_organisation_default(session, ADMIN, organisation_id=organisation_id, language="fr")
    with pytest.raises(ValueError, match="unknown language"):
        set_person_language(session, person_id, "xx")
    session.rollback()
    set_organisation_default(session, ADMIN, organisation_id=organisation_id, language=WELSH)
    session.commit()
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "setting_changed")).one()
    assert entry.actor == ADMIN.email and "default_language" in entry.detail


def test_the_welsh_catalogue_translates_the_interface() -> None:
    use_language(WELSH)
    assert current_language() == WELSH
    assert _("Weekly pulse") == "Arolwg wythnosol"
    assert _("Send my answers") == "Cyflwyno fy atebion"
    assert _("Team: {team}").format(team="Tîm Un") == "Tîm: Tîm Un"
    assert _("A message nobody translated") == "A message nobody translated"
    use_language(ENGLISH)
    assert _("Weekly pulse") == "Weekly pulse"
    use_language("xx")  # an unknown code shows English rather than failing
    assert current_language() == ENGLISH and _("Weekly pulse") == "Weekly pulse"


def test_fuzzy_and_empty_entries_fall_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / WELSH / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Yes"\nmsgstr "Ie"\n\n'
        '#, fuzzy\nmsgid "No"\nmsgstr "Na"\n\n'
        'msgid "Maybe"\nmsgstr ""\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalogue_for.cache_clear()
    try:
        catalogue = i18n.catalogue_for(WELSH)
        assert isinstance(catalogue, gettext.GNUTranslations)
        assert [catalogue.gettext(m) for m in ("Yes", "No", "Maybe")] == ["Ie", "No", "Maybe"]
    finally:
        i18n.catalogue_for.cache_clear()


def test_dates_and_numbers_follow_the_locale() -> None:
    day = date(2026, 12, 3)
    use_language(ENGLISH)
    english = (format_date(day, "long"), format_decimal(1493.5), format_percent(0.42))
    use_language(WELSH)
    welsh = (format_date(day, "long"), format_decimal(1493.5), format_percent(0.42))
    assert english == ("3 December 2026", "1,493.5", "42%")
    assert welsh[0] == "3 Rhagfyr 2026"
    assert welsh[1:] == ("1,493.5", "42%")  # Welsh writes numbers as English does


def _drop_everything(url: str) -> None:
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_language_migration_adds_and_removes_the_columns_keeping_people(db_url: str) -> None:
    """Down and up again keeps every person and, on SQLite, the people-changes triggers (a
    batch copy of the table would have dropped them)."""
    _drop_everything(db_url)
    upgrade_to_head(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        _org(session)
        person = session.exec(select(Person)).one()
        set_person_language(session, person.id, WELSH)  # type: ignore[arg-type]
        session.commit()
    engine.dispose()
    command.downgrade(alembic_config(db_url), BEFORE_LANGUAGE)
    engine = make_engine(db_url)
    assert "language" not in _columns(engine, "person")
    assert "default_language" not in _columns(engine, "unit")
    with engine.begin() as connection:
        before = connection.execute(text("SELECT changes FROM people_changes")).scalar_one()
        connection.execute(text("UPDATE person SET display_name = 'Renamed'"))
        after = connection.execute(text("SELECT changes FROM people_changes")).scalar_one()
    assert after > before  # the counting trigger survived
    engine.dispose()
    command.upgrade(alembic_config(db_url), LANGUAGE_REVISION)
    engine = make_engine(db_url)
    with Session(engine) as session:
        person = session.exec(select(Person)).one()
        assert person.display_name == "Renamed" and person.language is None
    engine.dispose()


@pytest.fixture
def app_database(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An organisation with one team and one staff member, served by app/main.py in demo mode."""
    with Session(sqlite_engine) as session:
        _org(session)
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    monkeypatch.setenv("WELLBEING_WARM_DASHBOARDS", "false")
    get_settings.cache_clear()
    yield sqlite_engine
    get_settings.cache_clear()


def _signed_in() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "staff@example.org"
    return at.run()


def test_the_sidebar_choice_is_saved_and_shown_at_the_next_sign_in(app_database: Engine) -> None:
    at = _signed_in()
    assert not at.exception
    assert at.title[0].value == "Weekly pulse"
    at.selectbox(key=CONTROL_KEY).set_value(WELSH).run()
    assert not at.exception
    assert at.title[0].value == "Arolwg wythnosol"
    assert any("Dangosir y cwestiynau hyn yn Saesneg" in c.value for c in at.caption)
    with Session(app_database) as session:
        assert session.exec(select(Person)).one().language == WELSH

    again = _signed_in()  # a new session reads the saved choice
    assert again.title[0].value == "Arolwg wythnosol"
    assert again.selectbox(key=CONTROL_KEY).value == WELSH


def test_a_person_who_has_not_chosen_reads_the_organisations_default(app_database: Engine) -> None:
    with Session(app_database) as session:
        organisation = session.exec(select(Unit).where(Unit.code == "ORG")).one()
        set_organisation_default(session, ADMIN, organisation_id=organisation.id, language=WELSH)  # type: ignore[arg-type]
        session.commit()
    at = _signed_in()
    assert not at.exception
    assert at.title[0].value == "Arolwg wythnosol"


def test_a_language_picked_before_signing_in_becomes_the_persons_choice(
    app_database: Engine,
) -> None:
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    assert at.title[0].value == "Wellbeing & Outcomes Tracker"
    at.selectbox(key=CONTROL_KEY).set_value(WELSH).run()
    assert at.title[0].value == "Traciwr Llesiant a Chanlyniadau"  # the sign-in page in Welsh
    at.session_state["demo_email"] = "staff@example.org"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Arolwg wythnosol"
    with Session(app_database) as session:
        assert session.exec(select(Person)).one().language == WELSH
