"""Who gets this week's message: people who have not answered, worked out on the server.

For each person in the organisation's teams, active in the week and not opted out, the job
computes their participation receipt for the week (``surveys.submit.participation_receipt``) and
looks it up among the week's receipts; those without one are the non-submitters. Nothing here is
stored or shown per person: the result is the list to send to, and counts per team.

What was sent is recorded as ``sent_digest``: an HMAC of (person, week, slot) under a key derived
from the participation key, so the sent log can be checked on a rerun and names nobody by itself.
It is never the participation receipt, so the two tables cannot be joined row for row.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, select

from models.access import descendant_unit_ids
from models.base import week_monday
from models.org import Person, Unit
from models.pulse import ParticipationReceipt
from models.reminders import ReminderOptOut, ReminderSent
from surveys.submit import participation_receipt

_DERIVATION = b"wellbeing reminders: what was sent"


def reminder_key(participation_key: bytes) -> bytes:
    """The key of the sent log: derived from, and never equal to, the participation key."""
    return hmac.new(participation_key, _DERIVATION, hashlib.sha256).digest()


def sent_digest(key: bytes, person_id: int, week: str, slot: int) -> str:
    """HMAC(reminder key, ``person:week:slot``); ``key`` is ``reminder_key(...)``."""
    return hmac.new(key, f"{person_id}:{week}:{slot}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Recipient:
    """A person to write to; lives only in memory for the length of a run."""

    person_id: int
    team_id: int
    email: str
    digest: str  # what the sent log will hold once the message has gone


@dataclass
class TeamCounts:
    """Counts for one team in one run: never who."""

    eligible: int = 0
    answered: int = 0
    opted_out: int = 0
    already_sent: int = 0
    sent: int = 0
    failed: int = 0

    @property
    def to_send(self) -> int:
        return self.eligible - self.answered - self.opted_out - self.already_sent


@dataclass
class Batch:
    """The week's recipients for one slot, and the counts per team."""

    week: str
    slot: int
    recipients: list[Recipient] = field(default_factory=list)
    teams: dict[int, TeamCounts] = field(default_factory=dict)


def organisation_teams(session: Session, organisation_id: int) -> dict[int, str]:
    """Team id -> team code for every team in the organisation's tree."""
    below = descendant_unit_ids(session, {organisation_id})
    rows = session.exec(select(Unit.id, Unit.code).where(Unit.kind == "team")).all()
    return {int(unit_id): code for unit_id, code in rows if unit_id in below}


def _people(session: Session, team_ids: list[int], week: str) -> Iterator[tuple[int, int, str]]:
    """(person id, team id, email) of everyone in these teams who is active in ``week``."""
    monday = week_monday(week)
    sunday = monday + timedelta(days=6)
    query = (
        select(Person.id, Person.team_id, Person.email)
        .where(col(Person.team_id).in_(team_ids))
        .where((col(Person.active_from).is_(None)) | (col(Person.active_from) <= sunday))
        .where((col(Person.active_to).is_(None)) | (col(Person.active_to) >= monday))
        .order_by(col(Person.id))
    )
    for person_id, team_id, email in session.exec(query):
        yield int(person_id), int(team_id), str(email)  # type: ignore[arg-type]


def plan_batch(
    session: Session, *, organisation_id: int, week: str, slot: int, participation_key: bytes
) -> Batch:
    """Everyone in the organisation who should get ``slot``'s message for ``week`` now."""
    teams = organisation_teams(session, organisation_id)
    batch = Batch(week=week, slot=slot, teams={team_id: TeamCounts() for team_id in teams})
    if not teams:
        return batch
    receipts = set(
        session.exec(
            select(ParticipationReceipt.receipt).where(ParticipationReceipt.period == week)
        ).all()
    )
    sent = set(session.exec(select(ReminderSent.digest).where(ReminderSent.week == week)).all())
    opted_out = set(session.exec(select(ReminderOptOut.person_id)).all())
    key = reminder_key(participation_key)
    for person_id, team_id, email in _people(session, sorted(teams), week):
        counts = batch.teams[team_id]
        counts.eligible += 1
        if participation_receipt(participation_key, person_id, week) in receipts:
            counts.answered += 1
        elif person_id in opted_out:
            counts.opted_out += 1
        else:
            digest = sent_digest(key, person_id, week, slot)
            if digest in sent:
                counts.already_sent += 1
            else:
                batch.recipients.append(Recipient(person_id, team_id, email, digest))
    return batch
