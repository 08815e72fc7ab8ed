"""The CI security checks (.ci/security.py): bandit findings fail unless accepted with a reason in
.ci/security.toml; pip-audit vulnerabilities fail unless accepted; an unreachable vulnerability
service is reported and does not fail. No test talks to the network: pip-audit's output is given."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "security.py"


@pytest.fixture(scope="module")
def security() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_security", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ci_security"] = module
    spec.loader.exec_module(module)
    return module


def _finding(test_id: str, file: str) -> dict[str, object]:
    return {"test_id": test_id, "filename": file, "line_number": 3, "issue_text": "x"}


def test_bandit_findings_fail_unless_accepted(security: ModuleType) -> None:
    allowed = [{"test": "B608", "file": "surveys/submit.py", "why": "names from code"}]
    report = {"results": [_finding("B608", "surveys/submit.py"), _finding("B602", "app/x.py")]}
    outcome = security.judge_bandit(report, allowed)
    assert outcome.failed and outcome.lines == ["bandit B602 app/x.py:3: x"]
    accepted = security.judge_bandit({"results": [_finding("B608", "surveys/submit.py")]}, allowed)
    assert not accepted.failed


def test_an_accepted_finding_that_is_gone_is_reported(security: ModuleType) -> None:
    allowed = [{"test": "B101", "file": "app/gone.py", "why": "old"}]
    outcome = security.judge_bandit({"results": []}, allowed)
    assert not outcome.failed and any("no longer occurs" in line for line in outcome.lines)


def test_the_product_code_has_no_unaccepted_bandit_findings(security: ModuleType) -> None:
    outcome = security.run_bandit(security.load_allowed()["bandit"])
    assert not outcome.failed, outcome.lines
    assert not any("no longer occurs" in line for line in outcome.lines), outcome.lines


def test_every_accepted_finding_says_why(security: ModuleType, tmp_path: Path) -> None:
    assert all(entry["why"] for entry in security.load_allowed()["bandit"])
    bad = tmp_path / "security.toml"
    bad.write_text('[[bandit]]\ntest = "B101"\nfile = "x.py"\n')
    with pytest.raises(SystemExit, match="needs a 'why'"):
        security.load_allowed(bad)


@pytest.mark.parametrize(
    "stderr",
    [
        "ConnectionError: HTTPSConnectionPool(host='pypi.org'): Max retries exceeded",
        "Temporary failure in name resolution",
    ],
)
def test_an_unreachable_vulnerability_service_is_said_and_does_not_fail(
    security: ModuleType, stderr: str
) -> None:
    outcome = security.judge_audit(1, "", stderr, [])
    assert not outcome.failed
    assert "could not be reached" in outcome.lines[0] and "NOT audited" in outcome.lines[0]


def test_a_mirror_that_answers_nothing_is_treated_as_unreachable(security: ModuleType) -> None:
    report = {
        "dependencies": [
            {"name": "alembic", "skip_reason": "Dependency not found on PyPI and could not be audited"},
            {"name": "wellbeing", "skip_reason": "distribution marked as editable"},
        ]
    }
    outcome = security.judge_audit(0, json.dumps(report), "", [])
    assert not outcome.failed and "could not be reached" in outcome.lines[0]


def test_a_known_vulnerability_fails_unless_accepted(security: ModuleType) -> None:
    report = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "3.0",
                "vulns": [{"id": "GHSA-aaaa", "aliases": ["CVE-1"], "fix_versions": ["3.1.5"]}],
            },
            {"name": "pandas", "version": "3.1", "vulns": []},
        ]
    }
    outcome = security.judge_audit(1, json.dumps(report), "", [])
    assert outcome.failed
    assert "pip-audit GHSA-aaaa in jinja2 3.0 (fixed in: 3.1.5)" in outcome.lines
    waived = [{"id": "CVE-1", "package": "jinja2", "why": "not reachable from the app"}]
    assert not security.judge_audit(1, json.dumps(report), "", waived).failed


def test_a_broken_audit_fails_with_its_last_line(security: ModuleType) -> None:
    outcome = security.judge_audit(2, "", "Traceback...\nValueError: bad requirement", [])
    assert outcome.failed and "bad requirement" in outcome.lines[0]
