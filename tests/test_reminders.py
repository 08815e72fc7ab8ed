"""The reminder job end to end, with real parts: an aiosmtpd server receives the e-mail, a local
HTTP server stands in for the Teams/Slack webhook. Who got what (only non-submitters, once), that
nothing names a non-submitter to anyone else, and that a failure mid-batch loses nothing."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from analytics.reminders import released_participation_line
from models.access import Viewer
from models.audit import recent
from models.db import write_session
from models.org import Person, Unit
from models.pulse import ParticipationReceipt, PulsePeriod
from models.releases import PeriodRelease, ReleasedFigure
from models.reminders import ChannelPost, ReminderCount, ReminderRun, ReminderSent
from surveys.reminders.delivery import MailSender, Retry, SmtpConfig
from surveys.reminders.message import BatchMessage, MessageContext
from surveys.reminders.preferences import set_opt_out, set_reminders_enabled
from surveys.reminders.run import LEASE, Channels, RunReport, RunSettings, remind_organisation
from surveys.submit import participation_receipt
from tests.reminder_servers import Hook, Mailbox, smtp_fixture, webhook_fixture  # noqa: F401

KEY = b"test-participation-key"
MONDAY_0900 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 2026-W50, GMT
THURSDAY_1000 = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
WEEK = "2026-W50"
NO_WAIT = Retry(attempts=3, first_wait=0.0, sleep=lambda _seconds: None)


# -- a small organisation ------------------------------------------------------------------------


@dataclass
class Org:
    organisation_id: int
    team_ids: list[int]
    people: dict[int, tuple[str, str]]  # person id -> (email, name)


def make_org(engine: Engine, sizes: tuple[int, ...] = (6, 6)) -> Org:
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Borough Council", kind="organisation")
        session.add(org)
        session.flush()
        people: dict[int, tuple[str, str]] = {}
        team_ids = []
        for t, size in enumerate(sizes):
            team = Unit(code=f"T{t + 1}", name=f"Team {t + 1}", kind="team", parent_id=org.id)
            session.add(team)
            session.flush()
            team_ids.append(int(team.id))  # type: ignore[arg-type]
            for p in range(size):
                name = f"Person{t}x{p} Surname{t}y{p}"
                person = Person(email=f"p{t}_{p}@council.example", display_name=name, team_id=team.id)
                session.add(person)
                session.flush()
                people[int(person.id)] = (person.email, name)  # type: ignore[arg-type]
        return Org(int(org.id), team_ids, people)  # type: ignore[arg-type]


def answer(engine: Engine, person_ids: list[int], week: str = WEEK) -> None:
    """Record that these people answered (their participation receipts, as a submission does)."""
    with write_session(engine) as session:
        if session.get(PulsePeriod, week) is None:
            session.add(PulsePeriod(week=week, starts_on=date(2026, 12, 7), ends_on=date(2026, 12, 13)))
            session.flush()
        for person_id in person_ids:
            receipt = participation_receipt(KEY, person_id, week)
            session.add(ParticipationReceipt(period=week, receipt=receipt))


def run(engine: Engine, org: Org, now: datetime, port: int | None, **options: Any) -> RunReport:
    settings = RunSettings(
        participation_key=KEY,
        pulse_url="https://wellbeing.council.example/pulse",
        mail_from="Wellbeing pulse <wellbeing@council.example>",
        batch_size=options.pop("batch_size", 200),
    )
    mail = None
    if port is not None:
        config = SmtpConfig(host="127.0.0.1", port=port, security="none", timeout=5)
        mail = lambda: MailSender(config, NO_WAIT)  # noqa: E731
    channels = Channels(mail=mail, webhook_url=options.pop("webhook_url", None), retry=NO_WAIT)
    return remind_organisation(
        engine, organisation_id=org.organisation_id, now=now, settings=settings, channels=channels,
        **options,
    )  # fmt: skip


def email_of(org: Org, ids: list[int]) -> set[str]:
    return {org.people[i][0] for i in ids}


# -- tests ---------------------------------------------------------------------------------------


def test_invitations_and_reminders_go_only_to_non_submitters_once(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    org = make_org(engine)
    ids = sorted(org.people)
    answer(engine, ids[:3])  # three answered early on Monday
    assert run(engine, org, datetime(2026, 12, 7, 8, 59, tzinfo=UTC), port).slot is None
    assert mailbox.received == []

    report = run(engine, org, MONDAY_0900, port)
    assert report.kind == "invitation"
    assert sorted(mailbox.recipients()) == sorted(email_of(org, ids[3:]))
    assert report.total("sent") == 9 and report.total("answered") == 3

    run(engine, org, datetime(2026, 12, 7, 11, 0, tzinfo=UTC), port)  # a rerun: nothing twice
    assert len(mailbox.received) == 9
    with Session(engine) as session:  # and a run with nothing to do leaves no trace
        assert len(session.exec(select(ReminderRun)).all()) == 1

    answer(engine, ids[3:6])  # three more answer on Tuesday
    mailbox.received.clear()
    report = run(engine, org, THURSDAY_1000, port)
    assert report.kind == "reminder"
    assert sorted(mailbox.recipients()) == sorted(email_of(org, ids[6:]))
    run(engine, org, datetime(2026, 12, 11, 9, 0, tzinfo=UTC), port)
    assert len(mailbox.received) == 6
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ReminderSent)).one() == 9 + 6


def test_every_message_is_for_one_person_and_names_nobody_else(
    engine: Engine, smtp: tuple[Mailbox, int], webhook: tuple[Hook, str]
) -> None:
    mailbox, port = smtp
    hook, url = webhook
    org = make_org(engine)
    answer(engine, sorted(org.people)[:2])
    report = run(engine, org, MONDAY_0900, port, webhook_url=url)
    assert report.post == "posted" and len(hook.posts) == 1
    for rcpts, message in mailbox.received:
        assert len(rcpts) == 1 and message["To"] == rcpts[0]
        assert message["Cc"] is None and message["Bcc"] is None
        text = message.as_string()
        others = [(e, n) for e, n in org.people.values() if e != rcpts[0]]
        for email, name in others:
            assert email not in text and name.split()[0] not in text
        # What the message must say: the link, how long, anonymous, how to stop; text and HTML.
        plain = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for part in (plain, html):
            assert "https://wellbeing.council.example/pulse" in part
            assert "about a minute" in part and "anonymous" in part and "turn off" in part
        assert '<html lang="en">' in html and "<h1" in html and "<img" not in html
    post = json.dumps(hook.posts[0])
    for email, name in org.people.values():
        assert email not in post and name.split()[0] not in post and name.split()[1] not in post
    # No count of the open week: the only figures are the week's label and the question count.
    assert not re.search(
        r"\d", re.sub(r"\d+ short questions", "", hook.posts[0]["text"].replace(WEEK, ""))
    )
    # The counts kept per run and team name nobody either.
    with Session(engine) as session:
        counts = session.exec(select(ReminderCount)).all()
        assert {c.team_id for c in counts} == set(org.team_ids)
        assert sum(c.sent for c in counts) == 10


def test_channel_post_quotes_only_a_released_figure_and_goes_once(
    engine: Engine, webhook: tuple[Hook, str]
) -> None:
    hook, url = webhook
    org = make_org(engine)
    with write_session(engine) as session:
        session.add(
            PeriodRelease(organisation_id=org.organisation_id, period="2026-W49", kind="week",
                          first_week="2026-W49", last_week="2026-W49", released_on=date(2026, 12, 9))
        )  # fmt: skip
        session.add(
            ReleasedFigure(organisation_id=org.organisation_id, period="2026-W49",
                           unit_id=org.organisation_id, construct_id="responses", kind="week",
                           n="5-9", rate="42-75%", suppressed=False)
        )  # fmt: skip
    hook.fail_next = 1  # the first try fails: retried with backoff, then posted
    report = run(
        engine, org, MONDAY_0900, None, webhook_url=url, released_text=released_participation_line
    )
    assert report.post == "posted"
    assert len(hook.posts) == 1
    card = hook.posts[0]
    assert card["type"] == "message"
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "42-75%" in card["text"] and "2026-W49" in card["text"]
    assert "secret-token" not in " ".join(report.problems)
    run(engine, org, datetime(2026, 12, 7, 12, 0, tzinfo=UTC), None, webhook_url=url)
    assert len(hook.posts) == 1  # posted once per week and slot
    run(engine, org, THURSDAY_1000, None, webhook_url=url)
    assert len(hook.posts) == 2 and "still time" in hook.posts[1]["text"]
    with Session(engine) as session:
        assert len(session.exec(select(ChannelPost)).all()) == 2


def test_a_refused_address_is_counted_and_the_rest_go_on(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    org = make_org(engine)
    ids = sorted(org.people)
    refused = org.people[ids[4]][0]
    mailbox.refuse.add(refused)
    report = run(engine, org, MONDAY_0900, port)
    assert sorted(mailbox.recipients()) == sorted(email_of(org, ids) - {refused})
    assert report.total("failed") == 1
    assert any("refused" in problem and "@" not in problem for problem in report.problems)
    mailbox.refuse.clear()  # the address is fixed: the next run sends to it, and only to it
    run(engine, org, datetime(2026, 12, 7, 9, 15, tzinfo=UTC), port)
    assert sorted(mailbox.recipients()) == sorted(email_of(org, ids))


def test_smtp_down_mid_batch_loses_nothing_and_sends_nothing_twice(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    org = make_org(engine, sizes=(6, 6, 6))
    mailbox.down_after = 7
    report = run(engine, org, MONDAY_0900, port, batch_size=3)
    assert len(mailbox.received) == 7
    assert report.total("sent") == 7 and report.total("failed") == 11
    assert any("unavailable" in problem for problem in report.problems)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ReminderSent)).one() == 7
        assert session.exec(select(ReminderRun)).one().finished_at is not None
    mailbox.down_after = None  # back up: the next run sends the other eleven
    run(engine, org, datetime(2026, 12, 7, 9, 15, tzinfo=UTC), port)
    assert sorted(mailbox.recipients()) == sorted(email_of(org, sorted(org.people)))


def test_the_smtp_connection_is_reused_across_the_batch(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    org = make_org(engine)
    opened: list[int] = []
    import smtplib

    real_connect = smtplib.SMTP.connect

    def counting_connect(self: smtplib.SMTP, *args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return real_connect(self, *args, **kwargs)

    smtplib.SMTP.connect = counting_connect  # type: ignore[method-assign]
    try:
        run(engine, org, MONDAY_0900, port)
    finally:
        smtplib.SMTP.connect = real_connect  # type: ignore[method-assign]
    assert len(mailbox.received) == 12 and len(opened) == 1


def test_opted_out_people_and_switched_off_organisations_get_nothing(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    org = make_org(engine)
    ids = sorted(org.people)
    with write_session(engine) as session:
        set_opt_out(session, person_id=ids[0], opted_out=True)
        set_opt_out(session, person_id=ids[1], opted_out=True)
        set_opt_out(session, person_id=ids[1], opted_out=False)  # changed their mind
    report = run(engine, org, MONDAY_0900, port)
    assert sorted(mailbox.recipients()) == sorted(email_of(org, ids[1:]))
    assert report.total("opted_out") == 1

    admin = Viewer("admin@council.example", "Admin", None, None, frozenset({"admin"}))
    with write_session(engine) as session:
        set_reminders_enabled(
            session, admin, organisation_id=org.organisation_id, enabled=False, today=date(2026, 12, 8)
        )
    mailbox.received.clear()
    report = run(engine, org, THURSDAY_1000, port)
    assert report.status == "turned off for this organisation" and mailbox.received == []
    with Session(engine) as session:
        assert recent(session, limit=1)[0].action == "setting_changed"


def test_nothing_is_sent_in_quiet_hours_or_for_a_closed_week(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    org = make_org(engine)
    report = run(engine, org, datetime(2026, 12, 7, 22, 0, tzinfo=UTC), port)  # Monday 22:00: quiet
    assert report.status.startswith("waiting") and mailbox.received == []
    dry = run(engine, org, datetime(2026, 12, 7, 22, 0, tzinfo=UTC), port, dry_run=True)
    assert dry.total("to_send") == 12 and mailbox.received == []
    with write_session(engine) as session:
        session.add(
            PeriodRelease(organisation_id=org.organisation_id, period=WEEK, kind="week",
                          first_week=WEEK, last_week=WEEK, released_on=date(2026, 12, 16))
        )  # fmt: skip
    assert run(engine, org, THURSDAY_1000, port).status == "the week is closed"
    assert mailbox.received == []


def test_a_catch_up_run_sends_only_the_latest_due_message(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    """Nothing ran on Monday: Thursday's run sends one message each (the reminder), not two."""
    mailbox, port = smtp
    org = make_org(engine)
    report = run(engine, org, THURSDAY_1000, port)
    assert report.kind == "reminder"
    assert sorted(mailbox.recipients()) == sorted(email_of(org, sorted(org.people)))


def test_the_batch_template_reads_like_a_message_built_for_the_person() -> None:
    context = MessageContext(
        "Borough Council", WEEK, "https://w.example/pulse", "Pulse <pulse@w.example>", 10
    )
    template = BatchMessage("reminder", context)
    assert template.sender == "pulse@w.example"
    for address in ("o'brien+x@council.example", "jöhn@council.example"):
        message = message_from_bytes(template.render(address), policy=policy.default)
        assert message["To"] == address and message["Message-ID"].endswith("@w.example>")
        assert "still time" in message.get_body(("plain",)).get_content()
    first, second = (template.render("a@council.example") for _ in range(2))
    assert first != second  # each copy has its own Message-ID
    with pytest.raises(ValueError):
        template.render("a@council.example\r\nBcc: everyone@council.example")


def test_a_run_that_finds_another_still_going_sends_nothing(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    """Two overlapping runs would both see the same people as due: the second one stands back."""
    mailbox, port = smtp
    org = make_org(engine)
    with write_session(engine) as session:
        session.add(ReminderRun(organisation_id=org.organisation_id, week=WEEK, slot=0))
    report = run(engine, org, MONDAY_0900, port)
    assert report.status.startswith("another run") and mailbox.received == []
    with write_session(engine) as session:  # that run died long ago: its lease has run out
        stale = session.exec(select(ReminderRun)).one()
        stale.started_at = datetime.now(UTC) - LEASE - timedelta(minutes=1)
        session.add(stale)
    assert run(engine, org, MONDAY_0900, port).total("sent") == 12
    assert len(mailbox.received) == 12


def test_runs_started_at_the_same_moment_write_to_each_person_once(
    engine: Engine, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    org = make_org(engine, sizes=(10, 10, 10))
    start = threading.Barrier(3)
    reports: list[RunReport] = []

    def one_run() -> None:
        start.wait()
        reports.append(run(engine, org, MONDAY_0900, port))

    threads = [threading.Thread(target=one_run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(mailbox.recipients()) == sorted(email_of(org, sorted(org.people)))
    assert sum(report.total("sent") for report in reports) == 30
