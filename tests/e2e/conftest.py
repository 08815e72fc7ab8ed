"""Browser tests against a real Streamlit server on a seeded demo database (Debian chromium).

Without /usr/bin/chromium the tests skip with the reason, unless WELLBEING_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import serve_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BIN = Path(sys.executable).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = "Debian chromium is not installed (apt-get install chromium)"
    if os.environ.get("WELLBEING_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " and WELLBEING_REQUIRE_BROWSER=1")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def _cli(*args: str, env: dict[str, str]) -> None:
    result = subprocess.run([str(BIN / "wellbeing"), *args], env=env, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"wellbeing {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    )


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database with the seeded demo organisation (seed 1)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'demo.db'}"
    env = {**os.environ, "WELLBEING_DATABASE_URL": url}
    _cli("init-db", env=env)
    _cli("seed-demo", "--seed", "1", env=env)
    return url


@pytest.fixture(scope="session")
def app_url(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server in demo sign-in mode on the seeded demo database."""
    env = {
        "WELLBEING_DATABASE_URL": demo_database,
        "WELLBEING_ENVIRONMENT": "demo",
        "WELLBEING_AUTH_MODE": "demo",
    }
    with serve_app(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url
