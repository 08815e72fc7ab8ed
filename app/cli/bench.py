"""``wellbeing bench``: build (or reuse) a synthetic organisation at scale and time what users wait for.

The figures go to stdout as JSON (one key per figure); the progress bar and phase notes go to
stderr so the JSON can be piped. The full size is a documented command (docs/PERFORMANCE.md), not
a test; CI runs a small size as a smoke test.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from sqlalchemy import text

from app.bench import run_benchmark
from app.bench_org import (
    DEFAULT_RESPONSES,
    PEOPLE_PER_TEAM,
    SMALL_TEAM_SIZE,
    BenchError,
    BenchPlan,
    expected_responses,
)
from app.bench_phone import measure_pulse_on_phone
from app.bench_sign_in import SignInBenchError, demo_database, measure_sign_in
from app.cli.common import DatabaseUrlOption, cli, fail, load_settings, open_engine
from app.settings import PROJECT_ROOT
from models.faults import describe_fault
from models.migrate import upgrade_to_head


class BenchFormat(StrEnum):
    json = "json"
    text = "text"


class ProgressBar:
    """A plain progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr  # looked up now: test runners swap sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.last_drawn = 0.0
        self.last_tenth = -1
        self.interactive = self.stream.isatty()

    def __call__(self, step: int) -> None:
        self.done += step
        now = time.perf_counter()
        share = min(1.0, self.done / self.total)
        if self.interactive:
            if now - self.last_drawn < 0.2 and share < 1.0:
                return
            self.last_drawn = now
            end = "\n" if share >= 1.0 else ""
            self.stream.write("\r" + self._line(share, now) + end)
        else:
            tenth = int(share * 10)
            if tenth == self.last_tenth:
                return
            self.last_tenth = tenth
            self.stream.write(self._line(share, now) + "\n")
        self.stream.flush()

    def _line(self, share: float, now: float) -> str:
        filled = int(share * self.width)
        elapsed = now - self.started
        eta = elapsed / share - elapsed if share > 0 else 0.0
        return (
            f"building [{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%} "
            f"{self.done:,} responses  {elapsed:5.0f} s elapsed  ~{eta:4.0f} s left"
        )


def _note(message: str) -> None:
    typer.echo(f"bench: {message}", err=True)


@cli.command("bench")
def bench(
    responses: Annotated[
        int,
        typer.Option(
            "--responses",
            min=1,
            help="Size of the synthetic organisation in responses (--people-per-team x 52 weeks per "
            "team; about 4% do not answer). Default: 1,000 teams of 20.",
        ),
    ] = DEFAULT_RESPONSES,
    people_per_team: Annotated[
        int,
        typer.Option(
            "--people-per-team",
            min=SMALL_TEAM_SIZE + 1,
            help="People per team (fewer: fewer responses for the same teams x weeks, to show what "
            "memory and timings depend on)",
        ),
    ] = PEOPLE_PER_TEAM,
    database_url: DatabaseUrlOption = None,
    output_format: Annotated[
        BenchFormat, typer.Option("--format", help="json or text")
    ] = BenchFormat.json,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Timed runs per figure (median)")] = 3,
    sign_in_starts: Annotated[
        int,
        typer.Option(
            "--sign-in-starts",
            min=0,
            help="Also time the sign-in page's first visit after this many server starts (median; "
            "needs Chromium and the test extras; 0: not measured)",
        ),
    ] = 0,
    sign_in_only: Annotated[
        bool,
        typer.Option(
            "--sign-in-only",
            help="Only time the sign-in page's first visit (3 starts unless --sign-in-starts)",
        ),
    ] = False,
) -> None:
    """Build (or reuse) a synthetic organisation and time the HR overview, a team dashboard, strain
    detection and 200 concurrent submissions. Never point it at a real database: it refuses one
    that holds other data. Without --database-url it uses data/bench-<teams>-teams.db
    (data/bench-<teams>-teams-<people>-people.db with --people-per-team)."""
    if sign_in_only:
        _output(_sign_in_figures(database_url, sign_in_starts or 3), output_format)
        return
    try:
        plan = BenchPlan.for_responses(responses, people_per_team)
    except BenchError as error:
        fail(str(error))
    url = database_url or f"sqlite:///{PROJECT_ROOT / 'data' / plan.default_file_name}"
    settings = load_settings(url)
    engine = open_engine(settings, require_schema=False)  # the benchmark migrates it below
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001  (unreachable server, missing database: say so)
        fail(describe_fault(error, settings.database_url))
    try:
        upgrade_to_head(settings.database_url)
        _note(f"database {engine.url.render_as_string(hide_password=True)} ({plan.teams} teams)")
        report = run_benchmark(
            engine,
            plan,
            settings.participation_key.get_secret_value().encode(),
            repeats=repeats,
            progress=ProgressBar(expected_responses(plan)),
            log=_note,
        )
    except BenchError as error:
        fail(str(error))
    finally:
        engine.dispose()
    if sign_in_starts:
        report.update(_sign_in_figures(None, sign_in_starts))
    _output(report, output_format)


def _sign_in_figures(database_url: str | None, starts: int) -> dict:
    """The sign-in page's first visit after a start (``app.bench_sign_in``), on the demo council
    (or on ``database_url``, a database the app can serve); on the demo council also the pulse on
    a phone (``app.bench_phone``), once per start, each time as another staff member."""
    settings = load_settings(database_url)
    try:
        url = database_url or demo_database(settings, _note)
        with tempfile.TemporaryDirectory(prefix="wellbeing-bench-sign-in-") as logs:
            figures = measure_sign_in(url, starts=starts, log=_note, log_dir=Path(logs))
            if database_url is None:
                demo_file = Path(url.removeprefix("sqlite:///"))
                figures |= measure_pulse_on_phone(demo_file, runs=starts, log=_note, log_dir=Path(logs))
            return figures
    except SignInBenchError as error:
        fail(str(error))


def _output(report: dict, output_format: BenchFormat) -> None:
    if output_format is BenchFormat.json:
        typer.echo(json.dumps(report, indent=2))
    else:
        width = max(len(key) for key in report)
        for key, value in report.items():
            typer.echo(f"{key:<{width}}  {value}")
