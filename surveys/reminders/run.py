"""One run of the reminder job for one organisation: what is due, to whom, sent, recorded.

A run at any moment sends what is due by then and not yet sent for the open week: the latest due
slot (the invitation, or a reminder) to each person who has not answered, has not opted out and
has not had that slot's message yet. So a run catches up after a missed one, and a rerun sends
nothing twice. Messages go only on working days outside quiet hours.

What was sent is written to the sent log in batches as the run goes, so a failure part-way keeps
what went out; a refused address is counted and the rest go on; an SMTP server that stays down
after the retries stops the run's e-mail, and everyone not yet sent stays due for the next run.
A crash between a send and its batch write can repeat at most that batch's messages on the rerun.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.base import iso_week, utcnow
from models.db import read_session, write_session
from models.org import Unit
from models.releases import released_weeks
from models.reminders import ChannelPost, ReminderCount, ReminderRun, ReminderSent
from surveys.reminders.delivery import MailSender, PostFailed, Refused, Retry, Unavailable, post_json
from surveys.reminders.message import BatchMessage, MessageContext, channel_payload, kind_of
from surveys.reminders.preferences import reminders_enabled, schedule_for
from surveys.reminders.recipients import Batch, TeamCounts, organisation_teams, plan_batch
from surveys.submit import composition_for

BATCH_SIZE = 200  # sent-log rows written per transaction while a run goes on
_SENT = ReminderSent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Channels:
    """How this deployment reaches people: e-mail (a sender factory) and a webhook address."""

    mail: Callable[[], MailSender] | None = None
    webhook_url: str | None = None
    retry: Retry = field(default_factory=Retry)


@dataclass(frozen=True)
class RunSettings:
    """What the app passes down from its settings."""

    participation_key: bytes
    pulse_url: str
    mail_from: str
    time_zone: str = "Europe/London"
    min_group_size: int = 5
    batch_size: int = BATCH_SIZE


@dataclass
class RunReport:
    """What a run did, in counts only (per team code), for the command line and the log."""

    organisation: str
    week: str
    status: str
    slot: int | None = None
    teams: dict[str, TeamCounts] = field(default_factory=dict)
    post: str = "no webhook set"
    problems: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return None if self.slot is None else kind_of(self.slot)

    def total(self, name: str) -> int:
        return sum(getattr(counts, name) for counts in self.teams.values())


ReleasedText = Callable[[Session, int], str | None]


def remind_organisation(
    engine: Engine,
    *,
    organisation_id: int,
    now: datetime,
    settings: RunSettings,
    channels: Channels,
    released_text: ReleasedText | None = None,
    dry_run: bool = False,
) -> RunReport:
    """Send (or, with ``dry_run``, only count) what is due for the organisation at ``now``."""
    with read_session(engine) as session:
        organisation = session.get(Unit, organisation_id)
        if organisation is None or organisation.parent_id is not None:
            raise ValueError(f"unit {organisation_id} is not an organisation")
        code = organisation.code
        week = iso_week(now.astimezone(ZoneInfo(settings.time_zone)).date())
        schedule = schedule_for(
            session, organisation_id=organisation_id, week=week, time_zone=settings.time_zone
        )
        report = RunReport(organisation=code, week=week, status="")
        if not reminders_enabled(session, organisation_id=organisation_id, week=week):
            report.status = "turned off for this organisation"
            return report
        if week in released_weeks(session, organisation_ids=[organisation_id])[organisation_id]:
            report.status = "the week is closed"
            return report
        slot = schedule.due_slot(now)
        if slot is None:
            report.status = "nothing due yet (the invitation goes " + str(schedule.invitation) + ")"
            return report
        report.slot = slot
        batch = plan_batch(
            session,
            organisation_id=organisation_id,
            week=week,
            slot=slot,
            participation_key=settings.participation_key,
        )
        codes = organisation_teams(session, organisation_id)
        report.teams = {codes[team_id]: counts for team_id, counts in batch.teams.items()}
        questions = len(composition_for(session, organisation_id=organisation_id, week=week).items)
        posted = session.get(ChannelPost, (organisation_id, week, slot)) is not None
        released = released_text(session, organisation_id) if released_text else None
    if dry_run:
        report.status = "dry run"
        if not schedule.may_send_at(now):
            report.status += " (now is outside sending hours: a real run would wait)"
        return report
    if not schedule.may_send_at(now):
        report.status = "waiting: not a working day, or quiet hours"
        return report
    context = MessageContext(
        organisation=organisation.name,
        week=week,
        pulse_url=settings.pulse_url,
        mail_from=settings.mail_from,
        questions=questions,
        min_group_size=settings.min_group_size,
    )
    to_post = bool(channels.webhook_url) and not posted
    run_id = _start_run(engine, organisation_id, week, slot) if batch.recipients or to_post else None
    try:
        _send_mail(engine, batch, context, channels, settings.batch_size, report)
        report.post = _post(engine, organisation_id, week, slot, posted, context, channels, released)
    finally:
        if run_id is not None:
            _finish_run(engine, run_id, batch, report)
    failed = report.total("failed")
    report.status = "sent" if report.total("sent") or not failed else "not sent"
    if not batch.recipients:
        report.status = "nothing new to send"
    return report


def _start_run(engine: Engine, organisation_id: int, week: str, slot: int) -> int:
    with write_session(engine) as session:
        run = ReminderRun(organisation_id=organisation_id, week=week, slot=slot)
        session.add(run)
        session.flush()
        return int(run.id)  # type: ignore[arg-type]


def _finish_run(engine: Engine, run_id: int, batch: Batch, report: RunReport) -> None:
    with write_session(engine) as session:
        run = session.get(ReminderRun, run_id)
        assert run is not None
        run.finished_at = utcnow()
        run.sent = sum(c.sent for c in batch.teams.values())
        run.failed = sum(c.failed for c in batch.teams.values())
        run.posted = report.post == "posted"
        session.add(run)
        for team_id, counts in batch.teams.items():
            if counts.eligible:
                session.add(
                    ReminderCount(
                        run_id=run_id,
                        team_id=team_id,
                        eligible=counts.eligible,
                        answered=counts.answered,
                        opted_out=counts.opted_out,
                        already_sent=counts.already_sent,
                        sent=counts.sent,
                        failed=counts.failed,
                    )
                )


def _record_sent(engine: Engine, week: str, digests: list[str]) -> None:
    """Add to the sent log; a digest already there (a run alongside) is left as it is."""
    if not digests:
        return
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_SENT).on_conflict_do_nothing()
    with write_session(engine) as session:
        session.execute(statement, [{"week": week, "digest": digest} for digest in digests])


def _send_mail(
    engine: Engine,
    batch: Batch,
    context: MessageContext,
    channels: Channels,
    batch_size: int,
    report: RunReport,
) -> None:
    if not batch.recipients:
        return
    if channels.mail is None:
        for recipient in batch.recipients:
            batch.teams[recipient.team_id].failed += 1
        report.problems.append("e-mail is not set up (WELLBEING_SMTP_HOST): nothing was e-mailed")
        return
    template = BatchMessage(kind_of(batch.slot), context)
    pending: list[str] = []
    refused = 0
    try:
        with channels.mail() as sender:
            for index, recipient in enumerate(batch.recipients):
                counts = batch.teams[recipient.team_id]
                try:
                    sender.send_bytes(template.sender, recipient.email, template.render(recipient.email))
                except (Refused, ValueError):  # ValueError: an address no message can carry
                    counts.failed += 1
                    refused += 1
                    continue
                except Unavailable as error:
                    for left in batch.recipients[index:]:
                        batch.teams[left.team_id].failed += 1
                    report.problems.append(f"{error}: the rest stay due for the next run")
                    break
                counts.sent += 1
                pending.append(recipient.digest)
                if len(pending) >= batch_size:
                    _record_sent(engine, batch.week, pending)
                    pending = []
    finally:
        _record_sent(engine, batch.week, pending)
    if refused:
        report.problems.append(
            f"{refused} message(s) refused by the mail server (addresses not shown): retried next run"
        )


def _post(
    engine: Engine,
    organisation_id: int,
    week: str,
    slot: int,
    posted: bool,
    context: MessageContext,
    channels: Channels,
    released: str | None,
) -> str:
    if not channels.webhook_url:
        return "no webhook set"
    if posted:
        return "already posted"
    payload = channel_payload(channels.webhook_url, kind_of(slot), context, released)
    try:
        post_json(channels.webhook_url, payload, retry=channels.retry)
    except PostFailed as error:
        return f"failed: {error} (retried next run)"
    with write_session(engine) as session:
        if (
            session.exec(
                select(ChannelPost).where(
                    ChannelPost.organisation_id == organisation_id,
                    ChannelPost.week == week,
                    ChannelPost.slot == slot,
                )
            ).first()
            is None
        ):
            session.add(ChannelPost(organisation_id=organisation_id, week=week, slot=slot))
    return "posted"
