"""axe-core audit of every page each role can open, at desktop and phone width (real server).

axe-core comes bundled in the axe-playwright-python package (axe.min.js, MPL-2.0), so nothing is
fetched at test time. A serious or critical violation fails the test unless it is in the one
allowlist, tests/e2e/axe_allowlist.toml (read through app.a11y, as the accessibility statement
page reads it). Set WELLBEING_AXE_REPORT=<folder> to keep every finding of every impact as JSON.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.a11y import AXE_TAGS, FAILING_IMPACTS, AxeException, load_allowlist
from app.main import NOT_FOR_YOU_TITLE, ROLE_PAGES
from tests.e2e.access_helpers import sign_in_any_width
from tests.e2e.helpers import nav_links, wait_for_app

AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
ROLES = {"staff": "Staff in", "manager": "Manager of", "hr": "· HR", "admin": "· Admin"}
# Which role's audit must include each navigation section, so that a page added to ROLE_PAGES is
# audited (an unknown section fails the test until it is added here).
SECTION_ROLE = {"My pulse": "staff", "My teams": "manager", "Organisation": "hr", "Settings": "admin"}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# Runs axe on the whole document; marks each failing element with the index of the allowlist
# entry (same rule, element matching or inside its selector) that accepts it, or -1.
RUN_AXE = """
async ({tags, allow}) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
  });
  const accepted = (rule, target) => {
    if (target.length !== 1) return -1;  // inside an iframe or shadow root: never accepted
    const element = document.querySelector(target[0]);
    return allow.findIndex(e => e.rule === rule && element && element.closest(e.selector) !== null);
  };
  return {
    version: axe.version,
    violations: results.violations.map(v => ({
      id: v.id, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({
        impact: n.impact, target: n.target, html: n.html.slice(0, 200),
        summary: n.failureSummary, allowed: accepted(v.id, n.target),
      })),
    })),
  };
}
"""


def _go_within_session(page: Page, path: str) -> None:
    """Change the URL inside the signed-in browser session (single-page-app routing)."""
    page.evaluate(
        "path => { window.history.pushState({}, '', path);"
        " window.dispatchEvent(new PopStateEvent('popstate')); }",
        path,
    )
    wait_for_app(page)


def _settle(page: Page) -> None:
    """Wait until the page has drawn: a heading, every chart's SVG or canvas, no skeletons."""
    wait_for_app(page)
    expect(page.get_by_test_id("stHeading").first).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=60_000)
    charts = page.get_by_test_id("stVegaLiteChart")
    for index in range(charts.count()):
        chart = charts.nth(index)
        if chart.is_visible():
            expect(chart.locator("canvas, svg").first).to_be_attached(timeout=30_000)
    page.wait_for_load_state("networkidle")


def _audit(page: Page, allow: tuple[AxeException, ...]) -> dict[str, Any]:
    page.evaluate(AXE_SCRIPT)
    return page.evaluate(
        RUN_AXE,
        {"tags": list(AXE_TAGS), "allow": [{"rule": e.rule, "selector": e.selector} for e in allow]},
    )


def _failures(where: str, result: dict[str, Any]) -> list[str]:
    lines = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            if node["impact"] in FAILING_IMPACTS and node["allowed"] < 0:
                lines.append(
                    f"{where}: {violation['id']} ({node['impact']}) at {' '.join(node['target'])}\n"
                    f"    {node['html']}\n    {node['summary']}\n    {violation['helpUrl']}"
                )
    return lines


def _keep_report(name: str, findings: dict[str, Any]) -> None:
    folder = os.environ.get("WELLBEING_AXE_REPORT")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.json").write_text(json.dumps(findings, indent=1))


def _check(name: str, findings: dict[str, dict[str, Any]]) -> None:
    _keep_report(name, findings)
    failures = [line for where, result in findings.items() for line in _failures(where, result)]
    counts = Counter(line.split(": ", 1)[1].split(" ", 1)[0] for line in failures)
    assert not failures, (
        f"{len(failures)} serious or critical axe-core violations not in the allowlist "
        f"(by rule: {dict(counts)}):\n" + "\n".join(failures)
    )


def test_allowlist_entries_are_complete() -> None:
    for entry in load_allowlist():
        assert entry.rule and entry.selector and entry.reason and entry.wcag
        assert entry.issue.startswith("https://github.com/streamlit/streamlit/issues/")


def _open_statement(page: Page) -> None:
    """Follow the footer link to the accessibility statement; it lists every allowlist entry."""
    page.get_by_test_id("stPageLink").filter(has_text="Accessibility statement").click()
    _settle(page)
    expect(page.get_by_role("heading", name="Accessibility statement", exact=True)).to_be_visible()
    for entry in load_allowlist():
        expect(page.locator(f"a[href='{entry.issue}']").first).to_be_attached()
        expect(page.get_by_text(f"axe-core rule {entry.rule};")).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_signed_out_pages_have_no_serious_violations(page: Page, app_url: str, viewport: str) -> None:
    page.set_viewport_size(VIEWPORTS[viewport])
    page.goto(app_url)
    _settle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    allow = load_allowlist()
    findings = {"sign_in": _audit(page, allow)}
    _open_statement(page)
    findings["accessibility"] = _audit(page, allow)
    _check(f"signed_out-{viewport}", findings)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_has_no_serious_violations(
    page: Page, app_url: str, role: str, viewport: str
) -> None:
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in_any_width(page, app_url, ROLES[role])
    titles = set(nav_links(page))
    own = [spec for spec in ROLE_PAGES if spec.title in titles]
    expected = {spec.url_path for spec in ROLE_PAGES if SECTION_ROLE[spec.section] == role}
    assert expected <= {spec.url_path for spec in own}, f"{role} lacks pages it should audit"
    allow = load_allowlist()
    findings: dict[str, dict[str, Any]] = {}
    for spec in own:
        _go_within_session(page, f"/{spec.url_path}")
        _settle(page)
        assert NOT_FOR_YOU_TITLE not in page.get_by_test_id("stHeading").first.inner_text()
        findings[spec.url_path] = _audit(page, allow)
    _open_statement(page)
    findings["accessibility"] = _audit(page, allow)
    _check(f"{role}-{viewport}", findings)
