"""The sign-in page's first visit after a start, as people meet it after a deployment or a restart:
start the server, open the page in headless Chromium, and time from the request to the Sign in
button on screen. Part of ``wellbeing bench`` (the budget is 1.5 s); never a timed test.

Each start is a new server process on the seeded demo council (built once into
``data/bench-sign-in-demo.db`` and reused) and a new browser context (nothing cached), so every
run pays what a first visitor pays: the server's imports and start-up work plus the page itself.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.local_server import ServerStartError, running_server
from app.settings import PROJECT_ROOT, Settings
from models.db import make_engine
from models.migrate import upgrade_to_head

SIGN_IN_BUDGET_SECONDS = 1.5
DEMO_FILE = "bench-sign-in-demo.db"
CHROMIUM = Path("/usr/bin/chromium")
PAGE_TIMEOUT_MS = 60_000


class SignInBenchError(RuntimeError):
    """The measurement could not be made (the reason is safe to print)."""


def demo_database(settings: Settings, log: Callable[[str], None]) -> str:
    """The URL of the seeded demo council for the measurement, built on first use."""
    from analytics.privacy import release_due  # the build's imports only when it builds
    from surveys.demo.seed import seed_demo

    path = PROJECT_ROOT / "data" / DEMO_FILE
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"building the demo council for the sign-in measurement in {path} (once)")
    partial = path.with_suffix(".building")
    partial.unlink(missing_ok=True)
    building = f"sqlite:///{partial}"
    upgrade_to_head(building)
    engine = make_engine(building)
    try:
        seed_demo(engine, participation_key=settings.participation_key.get_secret_value().encode())
        release_due(
            engine,
            now=datetime.now(UTC),
            rules=settings.privacy_rules(),
            schedule=settings.release_schedule(),
        )
        with engine.connect() as connection:  # everything into the file before it is renamed
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    partial.rename(path)
    return url


FLOOR_APP = 'import streamlit as st\n\nst.button("Sign in")\n'


@contextmanager
def serve(database_url: str, log_path: Path, script: Path | None = None) -> Iterator[str]:
    """``python -m app.serve run app/main.py`` in demo sign-in mode, as ``wellbeing demo`` starts
    it (the warmer on); or ``streamlit run script`` (the floor: a one-button app)."""
    env = {
        "WELLBEING_DATABASE_URL": database_url,
        "WELLBEING_ENVIRONMENT": "demo",
        "WELLBEING_AUTH_MODE": "demo",
        "WELLBEING_WARM_DASHBOARDS": "true",
    }
    module, target = ("streamlit", str(script)) if script else ("app.serve", "app/main.py")
    try:
        with running_server(env, log_path, module=module, script=target) as url:
            yield url
    except ServerStartError as error:  # the benchmark's callers report its own error
        raise SignInBenchError(str(error)) from error


def launch_chromium(playwright: Any) -> Any:
    options: dict[str, Any] = {"args": ["--headless", "--no-sandbox", "--disable-gpu"]}
    if CHROMIUM.exists():
        options["executable_path"] = str(CHROMIUM)
    return playwright.chromium.launch(**options)


def first_visit_seconds(browser: Any, url: str) -> float:
    """Seconds from asking for the page to its Sign in button on screen, in a fresh context."""
    context = browser.new_context()
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.get_by_role("button", name="Sign in").wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
        return time.perf_counter() - started
    finally:
        context.close()


def measure_sign_in(
    database_url: str, *, starts: int, log: Callable[[str], None], log_dir: Path
) -> dict[str, Any]:
    """The median over ``starts`` server starts of the sign-in page's first visit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:  # an install without the test extras
        raise SignInBenchError("playwright is not installed (pip install -e '.[test]')") from error
    runs: list[float] = []
    floor: list[float] = []
    floor_app = log_dir / "bench-sign-in-floor.py"
    floor_app.write_text(FLOOR_APP, encoding="utf-8")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for start in range(starts):  # the app and the floor in turn: the same machine load
                with serve(database_url, log_dir / f"bench-sign-in-{start}.log") as url:
                    seconds = first_visit_seconds(browser, url)
                runs.append(round(seconds, 3))
                with serve(database_url, log_dir / "bench-sign-in-floor.log", floor_app) as url:
                    floor.append(round(first_visit_seconds(browser, url), 3))
                log(
                    f"sign-in first visit after start {start + 1}/{starts}: {seconds:.2f} s "
                    f"(a one-button Streamlit app: {floor[-1]:.2f} s)"
                )
        finally:
            browser.close()
            floor_app.unlink(missing_ok=True)
    return {
        "sign_in_first_visit_seconds": round(statistics.median(runs), 3),
        "sign_in_first_visit_seconds_each_start": runs,
        # The same first visit to a one-button Streamlit app: what Streamlit and the browser cost
        # on this machine at this load, which the app cannot go below.
        "sign_in_floor_seconds": round(statistics.median(floor), 3),
        "sign_in_budget_seconds": SIGN_IN_BUDGET_SECONDS,
    }
