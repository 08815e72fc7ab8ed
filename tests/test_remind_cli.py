"""``wellbeing remind`` on a small demo council, as cron would run it: settings from the
environment, a real SMTP server (aiosmtpd), ``--now`` in the organisation's zone. The output shows
banded counts per team and never an address or a name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from models.db import read_session, write_session
from models.org import Person
from models.pulse import ParticipationReceipt, PulsePeriod
from surveys.demo import seed_demo
from surveys.submit import participation_receipt
from tests.reminder_servers import Mailbox, smtp_fixture  # noqa: F401

KEY = "cli-test-participation-key"
WEEK = "2026-W50"


@pytest.fixture
def demo(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Mailbox, int]
) -> Iterator[Engine]:
    seed_demo(
        sqlite_engine, participation_key=KEY.encode(), seed=1, teams=5, weeks=1, today=date(2026, 12, 2)
    )
    _, port = smtp
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_PARTICIPATION_KEY", KEY)
    monkeypatch.setenv("WELLBEING_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("WELLBEING_SMTP_PORT", str(port))
    monkeypatch.setenv("WELLBEING_SMTP_SECURITY", "none")
    monkeypatch.setenv("WELLBEING_MAIL_FROM", "wellbeing@northbridge.gov.uk")
    get_settings.cache_clear()
    yield sqlite_engine
    get_settings.cache_clear()


def _people(engine: Engine) -> dict[int, tuple[str, str, int | None]]:
    with read_session(engine) as session:
        rows = session.exec(select(Person.id, Person.email, Person.display_name, Person.team_id)).all()
    return {int(i): (e, n, t) for i, e, n, t in rows}  # type: ignore[arg-type]


def test_remind_invites_the_demo_council_non_submitters_and_prints_no_one(
    demo: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    people = _people(demo)
    staff = sorted(i for i, (_, _, team) in people.items() if team is not None)
    answered = staff[:4]
    with write_session(demo) as session:
        session.add(PulsePeriod(week=WEEK, starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 13)))
        session.flush()
        for person_id in answered:
            session.add(
                ParticipationReceipt(
                    period=WEEK, receipt=participation_receipt(KEY.encode(), person_id, WEEK)
                )
            )
    runner = CliRunner()

    dry = runner.invoke(cli, ["remind", "--dry-run", "--now", "2026-12-07T09:00"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "invitations to send" in dry.output
    assert mailbox.received == []

    early = runner.invoke(cli, ["remind", "--now", "2026-12-07T08:59"])
    assert early.exit_code == 0 and "nothing due yet" in early.output and mailbox.received == []

    result = runner.invoke(cli, ["remind", "--organisation", "NBC", "--now", "2026-12-07T09:00"])
    assert result.exit_code == 0, result.output
    expected = sorted(people[i][0] for i in staff if i not in answered)
    assert sorted(mailbox.recipients()) == expected
    for output in (dry.output, result.output):
        assert "@" not in output
        for email, name, _ in people.values():
            assert name not in output and email not in output

    again = runner.invoke(cli, ["remind", "--now", "2026-12-07T10:00"])
    assert again.exit_code == 0 and len(mailbox.received) == len(expected)

    unknown = runner.invoke(cli, ["remind", "--organisation", "NOPE"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output


def test_remind_without_smtp_settings_says_so_and_fails(
    demo: Engine, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Mailbox, int]
) -> None:
    monkeypatch.delenv("WELLBEING_SMTP_HOST")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["remind", "--now", "2026-12-07T09:00"])
    assert result.exit_code == 1
    assert "WELLBEING_SMTP_HOST" in result.output
    assert smtp[0].received == [] and demo is not None


def test_remind_on_an_unmigrated_database_says_what_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(cli, ["remind", "--dry-run", "--database-url", url])
    assert result.exit_code == 1
    assert "wellbeing init-db" in result.output and "Traceback" not in result.output
