"""Security checks for CI and developers: bandit over the product's code and pip-audit over the
installed dependencies, with accepted findings (and why) listed in ``.ci/security.toml`` only.

Exit status 1 when bandit or pip-audit reports a finding that the file does not accept. When the
vulnerability service cannot be reached (no network, a mirror without its JSON API), pip-audit
audits nothing; that is said plainly and does not fail the run, since it says nothing about the code.

    python3 run.py security        # or: .venv/bin/python .ci/security.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = Path(__file__).resolve().parent / "security.toml"
CODE = ("app", "models", "surveys", "analytics")
BIN = Path(sys.executable).parent
UNREACHABLE_MARKERS = (
    "connectionerror",
    "connection refused",
    "max retries exceeded",
    "name or service not known",
    "temporary failure in name resolution",
    "timed out",
    "network is unreachable",
    "ssl",
    "proxyerror",
)
NOT_AUDITED = "could not be audited"


@dataclass(frozen=True)
class Outcome:
    """What one check found: lines to print, and whether the run must fail."""

    lines: list[str]
    failed: bool


def load_allowed(path: Path = ALLOWED) -> dict[str, list[dict[str, str]]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for section in ("bandit", "pip-audit"):
        for entry in data.get(section, []):
            if not str(entry.get("why", "")).strip():
                raise SystemExit(f"{path.name}: every [[{section}]] entry needs a 'why': {entry}")
    return {"bandit": data.get("bandit", []), "pip-audit": data.get("pip-audit", [])}


def judge_bandit(report: dict[str, Any], allowed: list[dict[str, str]]) -> Outcome:
    """Findings from bandit's JSON report that no entry accepts fail the run."""
    used: set[tuple[str, str]] = set()
    lines: list[str] = []
    for finding in report.get("results", []):
        path = Path(finding["filename"])
        file = path.relative_to(ROOT).as_posix() if path.is_absolute() else path.as_posix()
        key = (finding["test_id"], file)
        if any((entry["test"], entry["file"]) == key for entry in allowed):
            used.add(key)
            continue
        lines.append(
            f"bandit {finding['test_id']} {file}:{finding['line_number']}: {finding['issue_text']}"
        )
    failed = bool(lines)
    for entry in allowed:
        if (entry["test"], entry["file"]) not in used:
            lines.append(
                f"note: .ci/security.toml accepts bandit {entry['test']} in {entry['file']}, "
                "which no longer occurs; remove the entry"
            )
    if not failed:
        lines.insert(0, f"bandit: no unaccepted findings ({len(used)} accepted in .ci/security.toml)")
    return Outcome(lines, failed)


def judge_audit(returncode: int, stdout: str, stderr: str, allowed: list[dict[str, str]]) -> Outcome:
    """pip-audit's JSON report: unaccepted vulnerabilities fail; an unreachable service does not."""
    try:
        report = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    if report is None:
        text = stderr.lower()
        if any(marker in text for marker in UNREACHABLE_MARKERS):
            return Outcome(
                [
                    "pip-audit: the vulnerability service could not be reached from this machine; "
                    "dependencies were NOT audited (not a failure; run it where the network allows)"
                ],
                False,
            )
        last = (stderr.strip().splitlines() or ["no output"])[-1][:300]
        return Outcome([f"pip-audit failed (exit {returncode}): {last}"], True)
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if NOT_AUDITED in str(d.get("skip_reason", ""))]
    audited = [d for d in dependencies if "skip_reason" not in d]
    if skipped and not audited:
        return Outcome(
            [
                f"pip-audit: the vulnerability service could not be reached: none of the "
                f"{len(skipped)} dependencies could be audited (not a failure; run it where the "
                "network allows)"
            ],
            False,
        )
    waived = {(entry["id"], entry.get("package", "").lower()) for entry in allowed}
    lines: list[str] = []
    for dependency in dependencies:
        for vulnerability in dependency.get("vulns", []):
            ids = {vulnerability["id"], *vulnerability.get("aliases", [])}
            name = dependency["name"].lower()
            if any((vid, name) in waived or (vid, "") in waived for vid in ids):
                continue
            fixed = ", ".join(vulnerability.get("fix_versions", [])) or "no fix yet"
            lines.append(
                f"pip-audit {vulnerability['id']} in {dependency['name']} "
                f"{dependency.get('version', '?')} (fixed in: {fixed})"
            )
    failed = bool(lines)
    summary = f"pip-audit: {len(audited)} dependencies audited"
    if skipped:
        summary += f", {len(skipped)} not audited ({', '.join(d['name'] for d in skipped[:5])}...)"
    lines.insert(0, summary + ("" if failed else ", no unaccepted vulnerabilities"))
    return Outcome(lines, failed)


def run_bandit(allowed: list[dict[str, str]]) -> Outcome:
    done = subprocess.run(  # noqa: S603  (fixed argument list)
        [str(BIN / "bandit"), "-q", "-r", *CODE, "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return Outcome([f"bandit could not run: {done.stderr.strip()[-300:]}"], True)
    return judge_bandit(report, allowed)


def run_audit(allowed: list[dict[str, str]]) -> Outcome:
    try:
        done = subprocess.run(  # noqa: S603  (fixed argument list)
            [str(BIN / "pip-audit"), "--skip-editable", "--progress-spinner", "off", "-f", "json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        return judge_audit(1, "", "timed out", allowed)
    return judge_audit(done.returncode, done.stdout, done.stderr, allowed)


def main() -> int:
    allowed = load_allowed()
    failed = False
    for outcome in (run_bandit(allowed["bandit"]), run_audit(allowed["pip-audit"])):
        for line in outcome.lines:
            print(line)
        failed = failed or outcome.failed
    if failed:
        print(
            "Security checks found problems (above): fix them, or accept them with a reason in "
            ".ci/security.toml.",
            file=sys.stderr,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
