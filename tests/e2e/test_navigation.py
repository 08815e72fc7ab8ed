"""Each role sees its own pages and nothing beyond them, whatever URL is typed (real server)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import nav_links, sign_in, wait_for_app

STAFF = {"Weekly pulse", "What others can see"}
MANAGER = {"Team dashboard", "Objectives"}
HR = {"Organisation trends", "Teams under strain", "Pulse reminders"}
ADMIN = {"Admin"}
SIGN_OUT = {"Sign out"}


def _go_within_session(page: Page, path: str) -> None:
    """Change the URL in the same browser session (as typing a path and pressing back/forward
    does for a single-page app) so the sign-in survives and only the page routing is tested."""
    page.evaluate(
        "path => { window.history.pushState({}, '', path);"
        " window.dispatchEvent(new PopStateEvent('popstate')); }",
        path,
    )
    wait_for_app(page)


def test_sign_in_page_lists_demo_accounts_under_a_demo_banner(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_text("Demo mode", exact=False).first).to_be_visible()
    expect(page.get_by_test_id("stSelectbox").filter(has_text="Demo account")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Demo account").click()
    options = page.get_by_role("option").all_inner_texts()
    assert any(" · Staff in " in text for text in options)
    assert any(" · Manager of " in text for text in options)
    assert any(text.endswith(" · HR") for text in options)
    assert any(text.endswith(" · Admin") for text in options)


def test_staff_member_sees_only_the_staff_pages(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "Staff in")
    assert set(nav_links(page)) == STAFF | SIGN_OUT
    expect(page.get_by_text("Demo mode", exact=False).first).to_be_visible()
    expect(page.get_by_test_id("stHeading").filter(has_text="Weekly pulse")).to_be_visible()


def test_staff_member_cannot_open_another_roles_page_by_url(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "Staff in")
    for path in ("/org_trends", "/strain", "/reminders", "/team_dashboard", "/admin"):
        _go_within_session(page, path)
        headings = " ".join(page.get_by_test_id("stHeading").all_inner_texts())
        for title in (
            "Organisation trends",
            "Teams under strain",
            "Pulse reminders",
            "Team dashboard",
            "Admin",
        ):
            assert title not in headings, f"{path} showed {title!r} to a staff member"
        assert set(nav_links(page)) == STAFF | SIGN_OUT
    # A fresh visit to the URL (new session) lands on the sign-in page, not on the HR page.
    page.goto(f"{app_url}/org_trends")
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert "Organisation trends" not in " ".join(page.get_by_test_id("stHeading").all_inner_texts())


def test_manager_sees_team_pages_and_their_own_pulse_only(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "Manager of")
    # Demo managers belong to a team, so they answer the pulse too.
    assert set(nav_links(page)) == STAFF | MANAGER | SIGN_OUT


def test_hr_sees_organisation_pages_and_nothing_of_managers_or_admins(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "· HR")
    links = set(nav_links(page))
    assert HR | SIGN_OUT <= links
    assert links <= STAFF | HR | SIGN_OUT  # staff pages only when the HR person is in a team


def test_admin_sees_the_admin_page_with_the_organisation(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "· Admin")
    links = set(nav_links(page))
    assert ADMIN | SIGN_OUT <= links
    assert links <= STAFF | ADMIN | SIGN_OUT
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Admin").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stHeading").filter(has_text="Admin")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()


def test_sign_out_returns_to_the_sign_in_page(page: Page, app_url: str) -> None:
    sign_in(page, app_url, "Staff in")
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Sign out").click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
