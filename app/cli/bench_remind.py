"""``wellbeing bench-remind``: time a reminder batch end to end against a local SMTP server.

Builds a throwaway organisation of ``--people`` people (teams of 20) in a fresh SQLite database,
starts an SMTP server that accepts and discards mail (aiosmtpd's ``Sink``) in its own process,
and times one run of the reminder job for the week's invitation: working out who has not answered,
building each message, sending it over one reused connection, and recording what was sent. The
figures go to stdout as JSON; peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from app.cli.common import cli, fail
from app.local_server import free_port
from models.db import make_engine, read_session
from models.org import Person, Unit
from surveys.reminders.delivery import MailSender, SmtpConfig
from surveys.reminders.recipients import plan_batch
from surveys.reminders.run import Channels, RunSettings, remind_organisation

TEAM_SIZE = 20
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 09:00 of 2026-W50: the invitation is due
KEY = b"bench-participation-key"


def _start_smtp_server(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd's discarding server in a process of its own; waits until it accepts connections."""
    command = [
        sys.executable,
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        f"127.0.0.1:{port}",
        "-c",
        "aiosmtpd.handlers.Sink",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            error = server.stderr.read().decode() if server.stderr else ""
            fail(f"the SMTP server did not start (is aiosmtpd installed? pip install aiosmtpd): {error}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    fail("the SMTP server did not start within 20 seconds")


def _organisation(engine: Engine, people: int) -> int:
    """One organisation, teams of 20, ``people`` people; returns the organisation's id."""
    units = Unit.__table__  # type: ignore[attr-defined]
    persons = Person.__table__  # type: ignore[attr-defined]
    teams = -(-people // TEAM_SIZE)
    with engine.begin() as connection:
        connection.execute(
            insert(units), [{"id": 1, "code": "BENCH", "name": "Bench Council", "kind": "organisation"}]
        )
        connection.execute(
            insert(units),
            [
                {
                    "id": 1 + t,
                    "code": f"BENCH-{t:05d}",
                    "name": f"Team {t}",
                    "kind": "team",
                    "parent_id": 1,
                }
                for t in range(1, teams + 1)
            ],
        )
        connection.execute(
            insert(persons),
            [
                {
                    "id": i,
                    "email": f"person{i}@bench.example",
                    "display_name": f"Person{i} Bench",
                    "team_id": 2 + i // TEAM_SIZE,
                }
                for i in range(people)
            ],
        )
    return 1


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@cli.command("bench-remind")
def bench_remind(
    people: Annotated[
        int, typer.Option("--people", min=1, help="People to remind (teams of 20)")
    ] = 20_000,
) -> None:
    """Time computing and sending one reminder batch to a local SMTP server in its own process."""
    port = free_port()
    server = _start_smtp_server(port)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-remind-") as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            SQLModel.metadata.create_all(engine)
            organisation_id = _organisation(engine, people)
            rss_before = _max_rss_mib()
            started = time.perf_counter()
            with read_session(engine) as session:
                batch = plan_batch(
                    session,
                    organisation_id=organisation_id,
                    week="2026-W50",
                    slot=0,
                    participation_key=KEY,
                )
            planned = time.perf_counter() - started
            del batch
            config = SmtpConfig(host="127.0.0.1", port=port, security="none")
            settings = RunSettings(
                participation_key=KEY,
                pulse_url="http://localhost:8501/pulse",
                mail_from="wellbeing@bench.example",
            )
            started = time.perf_counter()
            report = remind_organisation(
                engine,
                organisation_id=organisation_id,
                now=NOW,
                settings=settings,
                channels=Channels(mail=lambda: MailSender(config)),
            )
            elapsed = time.perf_counter() - started
            engine.dispose()
    finally:
        server.terminate()
        server.wait(timeout=10)
    sent = report.total("sent")
    if sent != people or report.problems:
        fail(f"sent {sent} of {people}: {'; '.join(report.problems)}")
    figures = {
        "people": people,
        "messages_sent": sent,
        "work_out_recipients_seconds": round(planned, 2),
        "batch_seconds": round(elapsed, 2),
        "messages_per_second": round(sent / elapsed, 1),
        "peak_rss_mib": round(_max_rss_mib(), 1),
        "peak_rss_growth_during_batch_mib": round(_max_rss_mib() - rss_before, 1),
        "smtp_server": "aiosmtpd Sink, own process, one reused connection, no TLS",
        "database": "SQLite (temporary file)",
    }
    typer.echo(json.dumps(figures, indent=2))
