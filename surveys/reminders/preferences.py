"""Who wants messages, and when an organisation sends them: opt-outs, the switch, the schedule.

- A person turns invitations and reminders off (or on again) for themselves on their pulse page;
  that is their own choice, takes effect at once and is not audited (it says nothing about answers).
- An admin turns the whole feature off or on for the organisation: at once, audited.
- An admin changes the schedule: from next week, audited (``models.org_settings``).
- An admin sets or clears the organisation's webhook address: a secret, audited without it.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from sqlmodel import Session

from models import audit
from models.access import Viewer
from models.base import iso_week
from models.org import Unit
from models.org_settings import get_org_setting, set_org_setting
from models.outcomes import OrgSetting
from models.reminders import ChannelWebhook, ReminderOptOut
from surveys.reminders.schedule import ReminderSchedule

SCHEDULE_SETTING = "reminder_schedule"
ENABLED_SETTING = "reminders_enabled"


def is_opted_out(session: Session, person_id: int) -> bool:
    return session.get(ReminderOptOut, person_id) is not None


def set_opt_out(session: Session, *, person_id: int, opted_out: bool) -> None:
    """The person's own choice (the caller commits)."""
    existing = session.get(ReminderOptOut, person_id)
    if opted_out and existing is None:
        session.add(ReminderOptOut(person_id=person_id))
    elif not opted_out and existing is not None:
        session.delete(existing)


def reminders_enabled(session: Session, *, organisation_id: int, week: str) -> bool:
    """Whether the organisation sends invitations and reminders in ``week`` (on by default)."""
    value = get_org_setting(
        session, organisation_id=organisation_id, key=ENABLED_SETTING, week=week, default=True
    )
    return bool(value)


def _require_organisation(session: Session, organisation_id: int) -> None:
    organisation = session.get(Unit, organisation_id)
    if organisation is None or organisation.parent_id is not None:
        raise ValueError(f"unit {organisation_id} is not an organisation (a root unit)")


def set_reminders_enabled(
    session: Session, viewer: Viewer, *, organisation_id: int, enabled: bool, today: date | None = None
) -> None:
    """Turn the feature on or off from this week on (not next: stopping messages cannot wait)."""
    viewer.require("admin")
    _require_organisation(session, organisation_id)
    week = iso_week(today or date.today())
    row = OrgSetting(
        organisation_id=organisation_id,
        key=ENABLED_SETTING,
        value="true" if enabled else "false",
        effective_from=week,
        set_by=viewer.email,
    )
    session.add(row)
    audit.record(
        session,
        actor=viewer.email,
        action="setting_changed",
        target=f"organisation {organisation_id}",
        detail={"key": ENABLED_SETTING, "value": enabled, "effective_from": week},
    )


def schedule_for(
    session: Session, *, organisation_id: int, week: str, time_zone: str = "Europe/London"
) -> ReminderSchedule:
    """The schedule in force in ``week`` (the default one when never set)."""
    stored = get_org_setting(
        session, organisation_id=organisation_id, key=SCHEDULE_SETTING, week=week, default=None
    )
    return ReminderSchedule.from_json(stored, time_zone=time_zone)


def set_schedule(
    session: Session,
    viewer: Viewer,
    *,
    organisation_id: int,
    schedule: ReminderSchedule,
    today: date | None = None,
) -> str:
    """Schedule a new reminder schedule from next week (audited); returns that week."""
    viewer.require("admin")
    _require_organisation(session, organisation_id)
    return set_org_setting(
        session,
        organisation_id=organisation_id,
        key=SCHEDULE_SETTING,
        value=schedule.to_json(),
        actor=viewer.email,
        today=today,
    )


def stored_webhook(session: Session, organisation_id: int) -> str | None:
    """The webhook address set on the Admin page (for the job only: never shown)."""
    row = session.get(ChannelWebhook, organisation_id)
    return row.url if row else None


def webhook_set_by(session: Session, organisation_id: int) -> tuple[str, str] | None:
    """Who set the stored webhook and when (what the Admin page may show), or None."""
    row = session.get(ChannelWebhook, organisation_id)
    return (row.set_by, f"{row.set_at:%Y-%m-%d %H:%M} UTC") if row else None


def set_webhook(session: Session, viewer: Viewer, *, organisation_id: int, url: str | None) -> None:
    """Store (or, with None, clear) the organisation's webhook address; audited without it."""
    viewer.require("admin")
    _require_organisation(session, organisation_id)
    existing = session.get(ChannelWebhook, organisation_id)
    if url is None:
        if existing is not None:
            session.delete(existing)
    else:
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in url):
            raise ValueError("the webhook address must be a full https:// address")
        if existing is None:
            session.add(ChannelWebhook(organisation_id=organisation_id, url=url, set_by=viewer.email))
        else:
            existing.url, existing.set_by = url, viewer.email
            session.add(existing)
    audit.record(
        session,
        actor=viewer.email,
        action="webhook_cleared" if url is None else "webhook_set",
        target=f"organisation {organisation_id}",
    )
