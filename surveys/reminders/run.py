"""One run of the reminder job for one organisation: what is due, to whom, sent, recorded.

A run at any moment sends what is due by then and not yet sent for the open week: the latest due
slot (the invitation, or a reminder) to each person who has not answered, has not opted out and
has not had that slot's message yet. So a run catches up after a missed one, and a rerun sends
nothing twice. Messages go only on working days outside quiet hours.

What was sent is written to the sent log in batches as the run goes, so a failure part-way keeps
what went out; a refused address is counted and the rest go on; an SMTP server that stays down
after the retries stops the run's e-mail, and everyone not yet sent stays due for the next run.
A crash between a send and its batch write can repeat at most that batch's messages on the rerun.
Two runs for one organisation never send at once: each takes a lease (an unfinished run row) before
it works out whom to write to, and a run that finds one taken sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.base import iso_week, utcnow
from models.db import read_session, write_session
from models.org import Unit
from models.releases import released_weeks
from models.reminders import ChannelPost, ReminderCount, ReminderRun, ReminderSent
from surveys.reminders.delivery import MailSender, PostFailed, Refused, Retry, Unavailable, post_json
from surveys.reminders.message import BatchMessage, MessageContext, channel_payload, kind_of
from surveys.reminders.preferences import reminders_enabled, schedule_for
from surveys.reminders.recipients import Batch, TeamCounts, organisation_teams, plan_batch
from surveys.reminders.schedule import ReminderSchedule
from surveys.submit import composition_for

BATCH_SIZE = 200  # sent-log rows written per transaction while a run goes on
# A run holds its organisation for at most this long: a run that died unfinished blocks the next
# ones no longer than this (20,000 messages take under a minute).
LEASE = timedelta(minutes=30)
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


@dataclass(frozen=True)
class _Week:
    """What a run reads before it decides anything."""

    code: str
    name: str
    week: str
    schedule: ReminderSchedule
    slot: int | None


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
        state = _read_week(session, organisation_id, now, settings.time_zone)
        report = RunReport(organisation=state.code, week=state.week, status="")
        report.status = _why_nothing(session, organisation_id, state)
    if report.status:
        return report
    slot = report.slot = state.slot
    if slot is None:  # not reached: state_of returns a slot whenever something is due
        raise RuntimeError("a reminder run without a due message")
    if dry_run:
        with read_session(engine) as session:
            report.teams = _plan(session, organisation_id, state, settings, None).counts_by_code()
        report.status = "dry run"
        if not state.schedule.may_send_at(now):
            report.status += " (now is outside sending hours: a real run would wait)"
        return report
    if not state.schedule.may_send_at(now):
        report.status = "waiting: not a working day, or quiet hours"
        return report
    run_id = _start_run(engine, organisation_id, state.week, slot)
    if run_id is None:
        report.status = "another run for this organisation is still going: nothing sent"
        return report
    batch = Batch(week=state.week, slot=slot)
    did_something = False
    try:
        with read_session(engine) as session:  # planned under the lease: no run sends it too
            plan = _plan(session, organisation_id, state, settings, released_text)
        batch, posted = plan.batch, plan.posted
        report.teams = plan.counts_by_code()
        context = MessageContext(
            organisation=state.name,
            week=state.week,
            pulse_url=settings.pulse_url,
            mail_from=settings.mail_from,
            questions=plan.questions,
            min_group_size=settings.min_group_size,
        )
        did_something = bool(batch.recipients) or (bool(channels.webhook_url) and not posted)
        _send_mail(engine, batch, context, channels, settings.batch_size, report)
        report.post = _post(
            engine, organisation_id, state.week, slot, posted, context, channels, plan.released
        )
    finally:
        _finish_run(engine, run_id, batch, report, keep=did_something)
    failed = report.total("failed")
    report.status = "sent" if report.total("sent") or not failed else "not sent"
    if not batch.recipients:
        report.status = "nothing new to send"
    return report


def _read_week(session: Session, organisation_id: int, now: datetime, time_zone: str) -> _Week:
    organisation = session.get(Unit, organisation_id)
    if organisation is None or organisation.parent_id is not None:
        raise ValueError(f"unit {organisation_id} is not an organisation")
    week = iso_week(now.astimezone(ZoneInfo(time_zone)).date())
    schedule = schedule_for(session, organisation_id=organisation_id, week=week, time_zone=time_zone)
    return _Week(organisation.code, organisation.name, week, schedule, schedule.due_slot(now))


def _why_nothing(session: Session, organisation_id: int, state: _Week) -> str:
    """Why nothing is due for the organisation this week, or "" when something may be."""
    if not reminders_enabled(session, organisation_id=organisation_id, week=state.week):
        return "turned off for this organisation"
    if state.week in released_weeks(session, organisation_ids=[organisation_id])[organisation_id]:
        return "the week is closed"
    if state.slot is None:
        return f"nothing due yet (the invitation goes {state.schedule.invitation})"
    return ""


@dataclass(frozen=True)
class _Plan:
    batch: Batch
    team_codes: dict[int, str]
    questions: int
    posted: bool  # the channel post for this slot has gone
    released: str | None  # the released line a channel post may quote

    def counts_by_code(self) -> dict[str, TeamCounts]:
        return {self.team_codes[team_id]: counts for team_id, counts in self.batch.teams.items()}


def _plan(
    session: Session,
    organisation_id: int,
    state: _Week,
    settings: RunSettings,
    released_text: ReleasedText | None,
) -> _Plan:
    if state.slot is None:  # not reached: callers plan only a due message
        raise RuntimeError("a reminder run without a due message")
    batch = plan_batch(
        session,
        organisation_id=organisation_id,
        week=state.week,
        slot=state.slot,
        participation_key=settings.participation_key,
    )
    return _Plan(
        batch=batch,
        team_codes=organisation_teams(session, organisation_id),
        questions=len(composition_for(session, organisation_id=organisation_id, week=state.week).items),
        posted=session.get(ChannelPost, (organisation_id, state.week, state.slot)) is not None,
        released=released_text(session, organisation_id) if released_text else None,
    )


def _start_run(engine: Engine, organisation_id: int, week: str, slot: int) -> int | None:
    """Take the organisation's lease: a run row not yet finished, younger than ``LEASE``. None
    when another run holds it. Starts are serialised: SQLite takes its write lock up front, and
    PostgreSQL locks the organisation's row."""
    with write_session(engine) as session:
        session.exec(select(Unit.id).where(Unit.id == organisation_id).with_for_update()).one()
        busy = session.exec(
            select(ReminderRun.id).where(
                ReminderRun.organisation_id == organisation_id,
                col(ReminderRun.finished_at).is_(None),
                ReminderRun.started_at > utcnow() - LEASE,
            )
        ).first()
        if busy is not None:
            return None
        run = ReminderRun(organisation_id=organisation_id, week=week, slot=slot)
        session.add(run)
        session.flush()
        return int(run.id)  # type: ignore[arg-type]


def _finish_run(engine: Engine, run_id: int, batch: Batch, report: RunReport, *, keep: bool) -> None:
    """Close the run with its counts per team; a run that had nothing to do leaves no row."""
    with write_session(engine) as session:
        run = session.get(ReminderRun, run_id)
        if run is None:  # the run's own row, written by this process: nothing to end
            return
        if not keep:
            session.delete(run)
            return
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
