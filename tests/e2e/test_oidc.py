"""OpenID Connect sign-in end to end: Streamlit's st.login against a local mock provider
(oidc-provider-mock), roles taken from the database by the email claim."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from models.db import make_engine, read_session
from models.org import Person, RoleGrant
from tests.e2e.helpers import free_port, nav_links, serve_app, wait_for_app

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")


@pytest.fixture(scope="module")
def oidc_app_url(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app in OIDC mode; its secrets.toml lives in a temporary HOME (~/.streamlit)."""
    with oidc_provider_mock.run_server_in_thread() as provider:
        port = free_port()
        home = tmp_path_factory.mktemp("oidc-home")
        (home / ".streamlit").mkdir()
        (home / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "wellbeing-e2e"\n'
            'client_secret = "not-a-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
        )
        env = {
            "HOME": str(home),
            "WELLBEING_DATABASE_URL": demo_database,
            "WELLBEING_ENVIRONMENT": "demo",
            "WELLBEING_AUTH_MODE": "oidc",
        }
        with serve_app(env, Path(home) / "streamlit.log", port=port) as url:
            yield url


def _hr_email(database_url: str) -> str:
    engine = make_engine(database_url)
    with read_session(engine) as session:
        email = session.exec(
            select(Person.email)
            .join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(RoleGrant.role == "hr", Person.team_id.is_(None))  # type: ignore[union-attr]
        ).first()
    engine.dispose()
    assert email, "the demo has an HR account without a team"
    return email


def _sign_in_at_provider(page: Page, app_url: str, subject: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").fill(subject)  # the mock uses the subject as the email claim
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app_url}/**")
    wait_for_app(page)


def test_oidc_sign_in_gives_the_roles_held_in_the_database(
    page: Page, oidc_app_url: str, demo_database: str
) -> None:
    _sign_in_at_provider(page, oidc_app_url, _hr_email(demo_database))
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=30_000)
    assert set(nav_links(page)) == {
        "Organisation trends",
        "Teams under strain",
        "Pulse reminders",
        "Sign out",
    }


def test_oidc_account_unknown_to_the_organisation_gets_no_pages(page: Page, oidc_app_url: str) -> None:
    _sign_in_at_provider(page, oidc_app_url, "someone.else@example.org")
    expect(page.get_by_text("has no access", exact=False)).to_be_visible(timeout=30_000)
    assert nav_links(page) == []
