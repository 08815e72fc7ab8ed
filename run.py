#!/usr/bin/env python3
"""The two quick-start commands, with nothing but Python 3.11+ installed beforehand.

    python3 run.py demo   # install, migrate, seed the demo organisation, serve http://localhost:8501
    python3 run.py test   # install (with test extras), lint, and run the whole test suite
    python3 run.py security  # bandit and pip-audit; accepted findings live in .ci/security.toml

Dependencies go into ./.venv; they are reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_environment(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (run.py is what users start first)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not (BIN / "python").exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (OSError, subprocess.CalledProcessError) as error:
            sys.exit(
                f"Could not create .venv ({error}). On Debian/Ubuntu install the venv module first: "
                "sudo apt-get install python3-venv"
            )
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    print(f"Installing dependencies ({extras or 'app'}) ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, "--quiet", "--upgrade", "pip"], check=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run([*pip, "--progress-bar", "off", "-e", target], check=True, cwd=ROOT)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "demo":
        ensure_environment("")
        try:
            return subprocess.call([str(BIN / "wellbeing"), "demo", *argv[1:]], cwd=ROOT)
        except KeyboardInterrupt:
            return 130
    if command == "test":
        ensure_environment("test")
        lint = subprocess.call([str(BIN / "ruff"), "check", "."], cwd=ROOT)
        if lint != 0:
            print("ruff found problems (above).", file=sys.stderr)
            return lint
        code = subprocess.call([str(BIN / "python"), "-m", "pytest", *argv[1:]], cwd=ROOT)
        if code == 5:
            print("pytest collected no tests: treating that as a failure.", file=sys.stderr)
            return 1
        return code
    if command == "security":
        ensure_environment("test")
        return subprocess.call([str(BIN / "python"), str(ROOT / ".ci" / "security.py")], cwd=ROOT)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
