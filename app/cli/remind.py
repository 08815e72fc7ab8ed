"""``wellbeing remind``: send the pulse invitations and reminders that are due, as a scheduled job.

Run it as often as you like (every 15 minutes from cron, a systemd timer or a Kubernetes CronJob):
each run sends what is due by then and not yet sent for the open week, to people who have not
answered. It prints counts per team, banded, never an address or a name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from analytics.reminders import count_band, released_participation_line
from app.cli.common import DatabaseUrlOption, cli, fail, load_settings, open_engine
from app.settings import Settings
from models.db import read_session
from models.org import Unit
from surveys.reminders.delivery import MailSender, SmtpConfig, security_for
from surveys.reminders.preferences import stored_webhook
from surveys.reminders.run import Channels, RunReport, RunSettings, remind_organisation
from surveys.reminders.schedule import ScheduleError, parse_now

PULSE_PATH = "pulse"  # the pulse page's address under WELLBEING_PUBLIC_URL (st.Page of pulse.py)


def mail_factory(settings: Settings) -> Callable[[], MailSender] | None:
    """A sender per run from the SMTP settings; None when no SMTP host is set."""
    if not settings.smtp_host:
        return None
    config = SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=security_for(settings.smtp_port, settings.smtp_security),
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    )
    return lambda: MailSender(config)


def webhook_for(settings: Settings, organisation_code: str, stored: str | None = None) -> str | None:
    """The address set on the Admin page, else the organisation's in the settings, else the
    deployment's, else none."""
    if stored:
        return stored
    chosen = settings.webhook_urls.get(organisation_code) or settings.webhook_url
    return chosen.get_secret_value() if chosen else None


def run_settings(settings: Settings) -> RunSettings:
    return RunSettings(
        participation_key=settings.participation_key.get_secret_value().encode(),
        pulse_url=f"{settings.public_url.rstrip('/')}/{PULSE_PATH}",
        mail_from=settings.mail_from,
        time_zone=settings.time_zone,
        min_group_size=settings.min_group_size,
    )


def print_report(report: RunReport) -> None:
    """Counts per team, banded; problems on stderr. Never an address or a name."""
    what = report.kind or "message"
    typer.echo(f"{report.organisation} {report.week}: {report.status}")
    if report.slot is None or not report.teams:
        return
    dry = report.status.startswith("dry run")
    for code in sorted(report.teams):
        counts = report.teams[code]
        if dry:
            line = f"{what}s to send {count_band(counts.to_send)}"
        else:
            line = f"{what}s sent {count_band(counts.sent)}, not sent {count_band(counts.failed)}"
        typer.echo(f"  {code}: {line}")
    total = report.total("to_send") if dry else report.total("sent")
    typer.echo(f"  all teams: {what}s {'to send' if dry else 'sent'} {count_band(total)}")
    if not dry:
        typer.echo(f"  channel post: {report.post}")
    for problem in report.problems:
        typer.secho(f"  problem: {problem}", err=True, fg=typer.colors.YELLOW)


@cli.command("remind")
def remind(
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Only this organisation (its code)")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Run as of this moment, e.g. 2026-12-07T09:00 (the organisation's time zone "
            "unless it carries an offset); default: now",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print banded counts per team; send nothing")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Send the pulse invitations and reminders due by now to people who have not answered.

    Meant for cron, a systemd timer or a Kubernetes CronJob; a rerun sends nothing twice."""
    settings = load_settings(database_url)
    try:
        moment = parse_now(now, settings.time_zone) if now else datetime.now(UTC)
    except ScheduleError as error:
        fail(f"--now: {error}")
    engine = open_engine(settings)
    try:
        problems = _run_all(engine, settings, organisation, moment, dry_run)
    except SQLAlchemyError as error:
        fail(
            f"the reminder run stopped (has `wellbeing init-db` been run?): {str(error).splitlines()[0]}"
        )
    finally:
        engine.dispose()
    if problems:
        raise typer.Exit(1)


def _run_all(
    engine: Engine, settings: Settings, organisation: str | None, moment: datetime, dry_run: bool
) -> int:
    """Run every (or the one) organisation; returns how many problems were reported."""
    problems = 0
    with read_session(engine) as session:
        query = select(Unit.id, Unit.code).where(col(Unit.parent_id).is_(None)).order_by(Unit.code)
        roots = [(int(i), str(c)) for i, c in session.exec(query).all()]  # type: ignore[arg-type]
    if organisation is not None:
        roots = [(i, c) for i, c in roots if c == organisation]
        if not roots:
            fail(f"there is no organisation with the code {organisation!r}")
    if not roots:
        fail("there is no organisation yet: import one or run `wellbeing seed-demo`")
    mail = mail_factory(settings)
    for organisation_id, code in roots:
        with read_session(engine) as session:
            stored = stored_webhook(session, organisation_id)
        report = remind_organisation(
            engine,
            organisation_id=organisation_id,
            now=moment,
            settings=run_settings(settings),
            channels=Channels(mail=mail, webhook_url=webhook_for(settings, code, stored)),
            released_text=released_participation_line,
            dry_run=dry_run,
        )
        print_report(report)
        problems += len(report.problems) + report.post.startswith("failed")
    return problems
