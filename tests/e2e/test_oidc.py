"""OpenID Connect sign-in end to end: Streamlit's st.login against a local mock provider
(oidc-provider-mock, offline), on a copy of the seeded demo database that these tests may change.

People are matched on the provider's subject, linked once by a verified e-mail; each role lands on
its own page and every page path opens cleanly (its page, or a plain "not for your role"); an
unknown account, an unverified e-mail and a person without a role are told so; a manager taken off
a team loses it on the next view; a copied cookie is refused after sign-out and after expiry.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete
from sqlmodel import select

from app.local_server import free_port
from app.main import NOT_FOR_YOU_TITLE, ROLE_PAGES
from models.db import make_engine, read_session, write_session
from models.identity import SignInSession
from models.org import Person, RoleGrant, Unit
from tests.e2e.helpers import nav_links, serve_app, wait_for_app

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

TITLES = {spec.url_path: spec.title for spec in ROLE_PAGES}
NOT_FOR_YOU = "is not for your role"


@dataclass(frozen=True)
class OidcApp:
    url: str
    provider: str
    database: str

    def set_account(self, subject: str, email: str, *, verified: bool = True) -> None:
        """What the provider will say about ``subject`` at its next sign-in."""
        response = httpx.put(
            f"{self.provider}/users/{quote(subject, safe='')}",
            json={"email": email, "email_verified": verified},
            timeout=10,
        )
        response.raise_for_status()


@pytest.fixture(scope="module")
def oidc_app(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcApp]:
    """The app in OIDC mode on its own copy of the demo database; secrets.toml in a temporary HOME."""
    home = tmp_path_factory.mktemp("oidc-home")
    copy = home / "oidc.db"
    with (
        sqlite3.connect(demo_database.removeprefix("sqlite:///")) as source,
        sqlite3.connect(copy) as target,
    ):
        source.backup(target)
    database = f"sqlite:///{copy}"
    with oidc_provider_mock.run_server_in_thread() as provider:
        port = free_port()
        issuer = f"http://localhost:{provider.server_port}"
        (home / ".streamlit").mkdir()
        (home / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "wellbeing-e2e"\n'
            'client_secret = "not-a-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        )
        env = {
            "HOME": str(home),
            "WELLBEING_DATABASE_URL": database,
            "WELLBEING_ENVIRONMENT": "demo",
            "WELLBEING_AUTH_MODE": "oidc",
        }
        with serve_app(env, home / "streamlit.log", port=port) as url:
            yield OidcApp(url=url, provider=issuer, database=database)


def _one(database: str, statement) -> str:  # type: ignore[no-untyped-def]
    engine = make_engine(database)
    with read_session(engine) as session:
        found = session.exec(statement).first()
    engine.dispose()
    assert found, f"the demo has no one for {statement}"
    return found


def _granted(role: str, *, in_team: bool):  # type: ignore[no-untyped-def]
    team = Person.team_id.is_not(None) if in_team else Person.team_id.is_(None)  # type: ignore[union-attr]
    return (
        select(Person.email)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == role, team)
        .order_by(Person.email)
    )


def _staff_only():  # type: ignore[no-untyped-def]
    granted = select(RoleGrant.person_id)
    return (
        select(Person.email)
        .where(Person.team_id.is_not(None), Person.id.not_in(granted))  # type: ignore[union-attr]
        .order_by(Person.email)
    )


def _persona(app: OidcApp, who: str) -> str:
    return {
        "staff": lambda: _one(app.database, _staff_only()),
        "manager": lambda: _one(app.database, _granted("manager", in_team=True)),
        "hr": lambda: _one(app.database, _granted("hr", in_team=False)),
        "admin": lambda: _one(app.database, _granted("admin", in_team=False)),
        "hr and staff": lambda: _one(app.database, _granted("hr", in_team=True)),
    }[who]()


def _add_person(app: OidcApp, email: str, *, role: str | None = None, in_a_team: bool = False) -> None:
    """A person no other test signs in as, with ``role`` if given, added to this module's database
    (one person is linked to one account: a second test signing in as them would be refused)."""
    engine = make_engine(app.database)
    with write_session(engine) as session:
        team_id = session.exec(select(Unit.id).where(Unit.kind == "team")).first() if in_a_team else None
        person = Person(email=email, display_name=email.split("@")[0], team_id=team_id)
        session.add(person)
        session.flush()
        if role:
            session.add(RoleGrant(person_id=person.id, role=role))
    engine.dispose()


ALLOWED = {
    "staff": {"pulse", "what_others_see"},
    "manager": {"pulse", "what_others_see", "team_dashboard", "objectives"},
    "hr": {"org_trends", "strain", "reminders"},
    "admin": {"admin"},
    "hr and staff": {"pulse", "what_others_see", "org_trends", "strain", "reminders"},
}
LANDING = {
    "staff": "Weekly pulse",
    "manager": "Team dashboard",
    "hr": "Organisation trends",
    "admin": "Admin",
    "hr and staff": "Organisation trends",
}


def _sign_in(page: Page, app: OidcApp, subject: str) -> None:
    page.goto(app.url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app.url}/**")
    wait_for_app(page)


def _title(page: Page) -> str:
    heading = page.get_by_test_id("stHeading").first
    expect(heading).to_be_visible(timeout=30_000)
    return heading.inner_text().strip()


def _main_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def _expect_no_page_not_found(page: Page) -> None:
    assert page.get_by_text("Page not found").count() == 0


def test_a_page_path_opened_first_after_a_start_shows_sign_in(page: Page, oidc_app: OidcApp) -> None:
    # The server's very first request: Streamlit's older pages-folder mode would run the page alone.
    page.goto(f"{oidc_app.url}/org_trends")
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    assert "Organisation trends" not in _main_text(page)


@pytest.mark.parametrize("who", list(ALLOWED))
def test_each_role_lands_on_its_own_page_and_every_page_path_opens(
    page: Page, oidc_app: OidcApp, who: str
) -> None:
    email = _persona(oidc_app, who)
    subject = f"subject-{who}"
    oidc_app.set_account(subject, email)
    _sign_in(page, oidc_app, subject)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=30_000)
    assert _title(page) == LANDING[who]
    assert set(nav_links(page)) == {TITLES[path] for path in ALLOWED[who]} | {"Sign out"}
    for path, title in TITLES.items():
        page.goto(f"{oidc_app.url}/{path}")  # a bookmark: a new session, the same sign-in cookie
        wait_for_app(page)
        _expect_no_page_not_found(page)
        if path in ALLOWED[who]:
            assert _title(page) == title, path
        else:
            assert _title(page) == NOT_FOR_YOU_TITLE, path
            assert f"The {title} page {NOT_FOR_YOU}" in _main_text(page)


def test_an_account_unknown_to_the_organisation_gets_no_pages(page: Page, oidc_app: OidcApp) -> None:
    oidc_app.set_account("subject-stranger", "someone.else@example.org")
    _sign_in(page, oidc_app, "subject-stranger")
    expect(page.get_by_text("has no access", exact=False)).to_be_visible(timeout=30_000)
    assert nav_links(page) == []
    page.goto(f"{oidc_app.url}/org_trends")
    wait_for_app(page)
    expect(page.get_by_text("has no access", exact=False)).to_be_visible(timeout=30_000)
    _expect_no_page_not_found(page)


def test_an_unverified_email_under_another_subject_gets_nothing(page: Page, oidc_app: OidcApp) -> None:
    hr_email = _persona(oidc_app, "hr")
    oidc_app.set_account("subject-impostor", hr_email, verified=False)
    _sign_in(page, oidc_app, "subject-impostor")
    expect(page.get_by_text("did not confirm your e-mail", exact=False)).to_be_visible(timeout=30_000)
    assert nav_links(page) == []
    page.goto(f"{oidc_app.url}/org_trends")
    wait_for_app(page)
    assert "Organisation trends" not in _main_text(page)


def test_a_changed_email_under_the_same_subject_is_the_same_person(
    browser: Browser, oidc_app: OidcApp
) -> None:
    hr_email = "hana.hr@northbridge.gov.uk"  # not signed in by any other test
    _add_person(oidc_app, hr_email, role="hr")
    oidc_app.set_account("subject-hana", hr_email)
    first = browser.new_context().new_page()
    _sign_in(first, oidc_app, "subject-hana")
    assert _title(first) == "Organisation trends"
    first.context.close()
    oidc_app.set_account("subject-hana", "hana.renamed@another-domain.example")
    second = browser.new_context().new_page()
    _sign_in(second, oidc_app, "subject-hana")
    assert _title(second) == "Organisation trends"
    second.context.close()


def test_a_person_without_team_or_role_is_told_so_and_not_signed_out(
    page: Page, oidc_app: OidcApp
) -> None:
    _add_person(oidc_app, "new.starter@northbridge.gov.uk")
    oidc_app.set_account("subject-new-starter", "new.starter@northbridge.gov.uk")
    _sign_in(page, oidc_app, "subject-new-starter")
    expect(page.get_by_text("no role in this tool yet", exact=False)).to_be_visible(timeout=30_000)
    assert set(nav_links(page)) == {"No role yet", "Sign out"}
    assert page.url.startswith(oidc_app.url)  # not sent to the provider's sign-out
    page.goto(f"{oidc_app.url}/admin")
    wait_for_app(page)
    expect(page.get_by_text(NOT_FOR_YOU, exact=False)).to_be_visible(timeout=30_000)


def test_a_manager_taken_off_a_team_loses_it_on_the_next_view(page: Page, oidc_app: OidcApp) -> None:
    engine = make_engine(oidc_app.database)
    with read_session(engine) as session:  # a manager of exactly one team
        email, team_name, grant_id = session.exec(
            select(Person.email, Unit.name, RoleGrant.id)
            .join(RoleGrant, RoleGrant.person_id == Person.id)
            .join(Unit, Unit.id == RoleGrant.unit_id)
            .where(RoleGrant.role == "manager", Unit.kind == "team")
            .order_by(Person.email.desc())  # type: ignore[attr-defined]
        ).first()
    oidc_app.set_account("subject-removed-manager", email)
    _sign_in(page, oidc_app, "subject-removed-manager")
    page.goto(f"{oidc_app.url}/team_dashboard")
    wait_for_app(page)
    expect(page.get_by_text(f"Team: {team_name}")).to_be_visible(timeout=30_000)  # figures now cached
    with write_session(engine) as session:
        session.execute(delete(RoleGrant).where(RoleGrant.id == grant_id))
    engine.dispose()
    page.reload()
    wait_for_app(page)
    assert _title(page) == NOT_FOR_YOU_TITLE
    expect(page.get_by_text(NOT_FOR_YOU, exact=False)).to_be_visible(timeout=30_000)
    assert team_name not in _main_text(page)


def test_a_copied_cookie_is_refused_after_sign_out(browser: Browser, oidc_app: OidcApp) -> None:
    email = "leaver@northbridge.gov.uk"
    _add_person(oidc_app, email, in_a_team=True)
    oidc_app.set_account("subject-leaver", email)
    mine = browser.new_context()
    page = mine.new_page()
    _sign_in(page, oidc_app, "subject-leaver")
    assert _title(page) == "Weekly pulse"
    stolen = mine.cookies()
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Sign out").click()
    page.get_by_role("button", name="End session").click()  # the provider's sign-out page
    page.wait_for_url(f"{oidc_app.url}/**")
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
    mine.close()
    theirs = browser.new_context()
    theirs.add_cookies(stolen)  # type: ignore[arg-type]
    replay = theirs.new_page()
    replay.goto(f"{oidc_app.url}/pulse")
    wait_for_app(replay)
    expect(replay.get_by_text("You signed out of this session", exact=False)).to_be_visible(
        timeout=30_000
    )
    assert nav_links(replay) == []
    theirs.close()


def test_a_session_past_the_maximum_age_ends(page: Page, oidc_app: OidcApp) -> None:
    email = "long.day@northbridge.gov.uk"
    _add_person(oidc_app, email, role="admin")
    oidc_app.set_account("subject-long-day", email)
    _sign_in(page, oidc_app, "subject-long-day")
    assert _title(page) == "Admin"
    engine = make_engine(oidc_app.database)
    with write_session(engine) as session:  # as if signed in nine hours ago (the maximum is eight)
        person_id = session.exec(select(Person.id).where(Person.email == email)).one()
        for record in session.exec(select(SignInSession).where(SignInSession.person_id == person_id)):
            record.started_at = record.started_at - timedelta(hours=9)
            session.add(record)
    engine.dispose()
    page.reload()
    wait_for_app(page)
    expect(page.get_by_text("reached its time limit", exact=False)).to_be_visible(timeout=30_000)
    assert nav_links(page) == []
    expect(page.get_by_role("button", name="Sign in again")).to_be_visible()
