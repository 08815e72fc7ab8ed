"""What the invitation and reminder job keeps: what it sent, counts per run, and who opted out.

Nothing here names a non-submitter:

- ``ReminderSent`` records a message as a keyed hash of (person, week, slot) under a key derived
  from the participation key, the way participation receipts are kept: a rerun can tell that it
  already sent this person this week's message, and the table alone names nobody.
- ``ReminderRun`` and ``ReminderCount`` keep counts per run and team (sent, failed, already
  answered, opted out), never a person. Pages show them banded, and only for closed weeks.
- ``ChannelPost`` marks the organisation's channel post for a week and slot as done.
- ``ReminderOptOut`` is a person's own choice to receive no invitations or reminders.
- ``ChannelWebhook`` is an organisation's Teams/Slack webhook address set on the Admin page: a
  secret, never shown back, audited without its value.

The schedule and the organisation's on/off switch are organisation settings (``org_setting``,
keys ``reminder_schedule`` and ``reminders_enabled``), audited like every other setting.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from models.base import utcnow


class ReminderSent(SQLModel, table=True):
    """One message sent: HMAC(reminder key, person, week, slot). Keyed by week first, like
    ``ParticipationReceipt``, so a week's rows sit together."""

    __tablename__ = "reminder_sent"
    week: str = Field(primary_key=True, max_length=8)
    digest: str = Field(primary_key=True, max_length=64)


class ReminderRun(SQLModel, table=True):
    """One run of ``wellbeing remind`` for one organisation (dry runs are not recorded)."""

    __tablename__ = "reminder_run"
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="unit.id", index=True, ondelete="CASCADE")
    week: str = Field(max_length=8, index=True)
    slot: int = Field(default=0)  # 0 = the invitation, 1.. = the reminders
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    sent: int = Field(default=0)
    failed: int = Field(default=0)
    posted: bool = False  # whether this run made the channel post


class ReminderCount(SQLModel, table=True):
    """Counts for one team in one run: people in scope, who had already answered, opted out,
    already sent this slot, sent now, and failed (to be retried by a later run)."""

    __tablename__ = "reminder_count"
    __table_args__ = (
        CheckConstraint("sent >= 0 AND failed >= 0 AND answered >= 0", name="counts_nonnegative"),
    )
    run_id: int = Field(primary_key=True, foreign_key="reminder_run.id", ondelete="CASCADE")
    team_id: int = Field(primary_key=True)  # derived counts: no foreign key, like the pulse sums
    eligible: int = Field(default=0)
    answered: int = Field(default=0)
    opted_out: int = Field(default=0)
    already_sent: int = Field(default=0)
    sent: int = Field(default=0)
    failed: int = Field(default=0)


class ChannelPost(SQLModel, table=True):
    """The organisation's Teams/Slack post for one week and slot has gone out."""

    __tablename__ = "channel_post"
    organisation_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="CASCADE")
    week: str = Field(primary_key=True, max_length=8)
    slot: int = Field(primary_key=True)
    posted_at: datetime = Field(default_factory=utcnow)


class ReminderOptOut(SQLModel, table=True):
    """A person who turned invitations and reminders off on their pulse page."""

    __tablename__ = "reminder_opt_out"
    person_id: int = Field(primary_key=True, foreign_key="person.id", ondelete="CASCADE")
    since: datetime = Field(default_factory=utcnow)


class ChannelWebhook(SQLModel, table=True):
    """An organisation's Teams/Slack webhook address, set on the Admin page (it overrides the
    settings). Whoever holds it can post to the channel, so it is never shown or logged."""

    __tablename__ = "channel_webhook"
    organisation_id: int = Field(primary_key=True, foreign_key="unit.id", ondelete="CASCADE")
    url: str = Field(max_length=2000)
    set_by: str = Field(max_length=254)
    set_at: datetime = Field(default_factory=utcnow)
