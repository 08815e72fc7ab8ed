"""Page helpers for browser tests, keyed on Streamlit's data-testid attributes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from app.local_server import ServerStartError, running_server


def wait_for_app(page: Page) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=30_000
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=30_000
    )


def show_team(page: Page, team: str) -> None:
    """On the team dashboard, make ``team`` the team shown: a manager of several teams gets a
    switcher, of one team its name. Waits for either before asking which (counting at once raced
    the page's rendering under load: a switcher about to appear counted 0)."""
    switcher = page.get_by_test_id("stSelectbox").filter(has_text="Team")
    expect(switcher.or_(page.get_by_text(f"Team: {team}")).first).to_be_visible(timeout=30_000)
    if switcher.count():
        switcher.first.click()
        page.get_by_role("option", name=team, exact=True).click()
        wait_for_app(page)


def sign_in(page: Page, app_url: str, account_text: str) -> None:
    """Sign in on the demo page by choosing the first account whose label contains ``account_text``
    (labels look like "Name · HR", "Name · Manager of Team X", "Name · Staff in Team Y")."""
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Demo account").click()
    page.get_by_role("option").filter(has_text=account_text).first.click()
    page.get_by_role("button", name="Sign in").click()
    wait_for_landing(page)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=30_000)


def wait_for_landing(page: Page) -> None:
    """After signing in, wait until the role's own first page has replaced the sign-in page and
    finished drawing: a click on the menu before that could be lost to the landing's rerun."""
    page.wait_for_url(lambda url: urlparse(url).path.strip("/") not in ("", "sign_in"))
    wait_for_app(page)
    expect(page.locator("[data-testid='stMain'] h1").first).to_be_visible(timeout=60_000)
    wait_for_app(page)


def nav_links(page: Page) -> list[str]:
    """The titles of the pages in the sidebar navigation (without the icon's ligature text,
    which Material icons render as a word such as "favorite" on a line of its own)."""
    texts = page.get_by_test_id("stSidebarNavLink").all_inner_texts()
    return [next((line.strip() for line in reversed(t.splitlines()) if line.strip()), "") for t in texts]


@contextmanager
def serve_app(env_overrides: dict[str, str], log_path: Path, port: int | None = None) -> Iterator[str]:
    """Run ``streamlit run app/main.py`` (on a free port unless given) until the block ends; yields
    its URL. The server's log is put in the failure message if it dies or never becomes healthy.
    """
    env = {
        "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full",
        "WELLBEING_WARM_DASHBOARDS": "true",  # as deployed (tests/conftest.py turns it off in-process)
        **env_overrides,
    }
    try:
        with running_server(env, log_path, port=port) as url:
            yield url
    except ServerStartError as error:
        pytest.fail(f"{error}:\n{log_path.read_text()}")
