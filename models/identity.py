"""Who a sign-in is: people matched on a stable identifier, and sign-in sessions that end.

An identity provider's e-mail claim can change (a marriage, a new domain) and, at some providers,
be set by the user; Microsoft documents ``preferred_username`` as changeable. So a person is
matched on the provider's stable identifier: Entra ID's tenant and object ids (``tid``, ``oid``)
when the token has them, otherwise the issuer and subject (``iss``, ``sub``). The e-mail is used
once, to link a first sign-in to the person the organisation file names, and only when the
provider says it is verified. After that the link decides, whatever e-mail the token carries.

A sign-in session is the identity token Streamlit keeps in its cookie. Its record here is keyed by
a hash of values only that token has (issuer, subject, ``iat``, ``nonce``, ``sid``), so a copy of
the cookie is the same session: once signed out or past the maximum age it stays refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import UniqueConstraint, delete
from sqlmodel import Field, Session, SQLModel, select

from models.access import Viewer
from models.audit import record
from models.base import utcnow
from models.language import N_
from models.org import Person

ENTRA_ISSUER_PREFIX = "entra-tenant:"
# A token whose iat lies further ahead than this is refused (clocks differ a little, not hours).
CLOCK_SKEW = timedelta(minutes=5)
# Session records older than this many maximum session lengths are deleted: the iat check alone
# refuses their cookies by then.
KEEP_RECORDS_FOR = 3

Status = Literal[
    "signed_in",  # a person, in a live session
    "new",  # a session not recorded yet (``begin_session`` records it)
    "invalid",  # the token lacks what identifies it (issuer, subject, iat)
    "unverified",  # first sign-in, but the e-mail is missing or not verified by the provider
    "unknown",  # first sign-in with a verified e-mail nobody in the organisation has
    "conflict",  # the e-mail's person is already linked to another account at this provider
    "ended",  # this session was signed out
    "expired",  # this session is older than the maximum
]

MESSAGES: dict[str, str] = {
    "invalid": N_("Your sign-in could not be read. Sign in again."),
    "unverified": N_(
        "Your identity provider did not confirm your e-mail address, so this account cannot be "
        "linked to anyone in the organisation. Ask your IT team to check the account."
    ),
    "unknown": N_(
        "This account has no access to this tool. Ask an administrator to add you to the organisation."
    ),
    "conflict": N_(
        "Someone with this e-mail address already signs in with a different account. Ask an "
        "administrator to check which account is yours."
    ),
    "ended": N_("You signed out of this session. Sign in again to continue."),
    "expired": N_("Your session has reached its time limit. Sign in again to continue."),
}


class IdentityLink(SQLModel, table=True):
    """A provider account (issuer, subject) linked to a person at their first verified sign-in."""

    __tablename__ = "identity_link"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_identity_link_issuer_subject"),
        # One account per person at each provider: a second account with the same e-mail is
        # refused, not silently given the first one's roles.
        UniqueConstraint("person_id", "issuer", name="uq_identity_link_person_issuer"),
    )
    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    linked_email: str = Field(max_length=254)
    linked_at: datetime = Field(default_factory=utcnow)


class SignInSession(SQLModel, table=True):
    """One identity token's session: when it started and, once over, when and why it ended."""

    __tablename__ = "sign_in_session"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=20)


@dataclass(frozen=True)
class Token:
    """What identifies a sign-in, read from the identity token's claims."""

    issuer: str
    subject: str
    issued_at: datetime
    session_key: str
    email: str | None
    email_verified: bool


@dataclass(frozen=True)
class SignIn:
    """The outcome of checking a sign-in: a person in a live session, or why not."""

    status: Status
    person_id: int | None = None
    started_at: datetime | None = None
    # Past its maximum age but not yet recorded as over: the caller records it (``end_session``).
    to_record_end: bool = False

    @property
    def message(self) -> str:
        return MESSAGES.get(self.status, "")


def _is_true(value: Any) -> bool:
    """Providers send booleans as JSON booleans or, some, as the strings "true"/"false"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def read_token(claims: Mapping[str, Any]) -> Token | None:
    """The identifying parts of an identity token's claims, or None if a required one is missing.

    The e-mail counts as verified when ``email_verified`` is true, or, for Microsoft Entra ID
    (which does not send ``email_verified``), when its optional ``xms_edov`` claim ("e-mail domain
    owner verified") is true. ``preferred_username`` is never used.
    """
    tenant, object_id = claims.get("tid"), claims.get("oid")
    if tenant and object_id:
        issuer, subject = f"{ENTRA_ISSUER_PREFIX}{tenant}", str(object_id)
    else:
        issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    try:
        issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    if not issuer or not subject:
        return None
    parts = (
        issuer,
        subject,
        str(claims.get("iat")),
        str(claims.get("nonce") or ""),
        str(claims.get("sid") or ""),
    )
    email = claims.get("email")
    return Token(
        issuer=issuer,
        subject=subject,
        issued_at=issued_at,
        session_key=hashlib.sha256("\x1f".join(parts).encode()).hexdigest(),
        email=str(email).strip().lower() if email else None,
        email_verified=_is_true(claims.get("email_verified")) or _is_true(claims.get("xms_edov")),
    )


def _linked_person(session: Session, token: Token) -> int | None:
    return session.exec(
        select(IdentityLink.person_id).where(
            IdentityLink.issuer == token.issuer, IdentityLink.subject == token.subject
        )
    ).first()


def _link_first_sign_in(session: Session, token: Token) -> SignIn | int:
    """Link this account to the person with its verified e-mail; the person id, or why not."""
    if not token.email or not token.email_verified:
        return SignIn("unverified")
    person_id = session.exec(select(Person.id).where(Person.email == token.email)).first()
    if person_id is None:
        return SignIn("unknown")
    taken = session.exec(
        select(IdentityLink.id).where(
            IdentityLink.person_id == person_id, IdentityLink.issuer == token.issuer
        )
    ).first()
    if taken is not None:
        return SignIn("conflict")
    session.add(
        IdentityLink(
            issuer=token.issuer, subject=token.subject, person_id=person_id, linked_email=token.email
        )
    )
    session.flush()
    return person_id


def _expired(started_at: datetime, now: datetime, max_age: timedelta) -> bool:
    return now - started_at > max_age


def check_session(
    session: Session, token: Token, *, max_age: timedelta, now: datetime | None = None
) -> SignIn:
    """Read-only check of a recorded session: ``signed_in`` with the person, why it is over, or
    ``new`` when it is not recorded yet (then ``begin_session`` in a write transaction)."""
    now = now or utcnow()
    record = session.exec(select(SignInSession).where(SignInSession.key == token.session_key)).first()
    if record is None:
        return SignIn("new")
    started = _aware(record.started_at)
    if record.ended_at is not None:
        return SignIn(
            "ended" if record.end_reason == "signed_out" else "expired", record.person_id, started
        )
    if _expired(started, now, max_age):
        return SignIn("expired", record.person_id, started, to_record_end=True)
    return SignIn("signed_in", record.person_id, started)


def begin_session(
    session: Session, token: Token, *, max_age: timedelta, now: datetime | None = None
) -> SignIn:
    """Resolve the person (linking a first sign-in) and record the session; call in a write
    transaction. A token older than ``max_age`` (by its ``iat``) is refused as expired, so a cookie
    kept from before cannot start a session here even if its record was never made or was purged.
    Two tabs beginning the same session at once: one insert fails on the unique key (IntegrityError);
    the caller runs this again in a new transaction and finds the other's record.
    """
    now = now or utcnow()
    known = check_session(session, token, max_age=max_age, now=now)
    if known.status != "new":
        return known
    if token.issued_at > now + CLOCK_SKEW:
        return SignIn("invalid")
    if _expired(token.issued_at, now, max_age):
        return SignIn("expired", None, token.issued_at)
    person_id = _linked_person(session, token)
    if person_id is None:
        linked = _link_first_sign_in(session, token)
        if isinstance(linked, SignIn):
            return linked
        person_id = linked
    started = min(token.issued_at, now)
    session.add(SignInSession(key=token.session_key, person_id=person_id, started_at=started))
    session.flush()
    _purge_old(session, now, max_age)
    return SignIn("signed_in", person_id, started)


def end_session(
    session: Session, token: Token, *, reason: str = "signed_out", now: datetime | None = None
) -> None:
    """Mark the token's session over (sign-out or expiry), so no copy of its cookie signs in."""
    record = session.exec(select(SignInSession).where(SignInSession.key == token.session_key)).first()
    if record is None or record.ended_at is not None:
        return
    record.ended_at = now or utcnow()
    record.end_reason = reason
    session.add(record)


def unlink_person(session: Session, viewer: Viewer, *, person_id: int) -> int:
    """Remove a person's provider links, the fix for a ``conflict`` when someone really has a new
    account: their next verified sign-in links afresh. Admins only; audited. Returns how many
    links were removed."""
    viewer.require("admin")
    result = session.execute(delete(IdentityLink).where(IdentityLink.person_id == person_id))
    removed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    record(
        session,
        actor=viewer.email,
        action="identity.unlink",
        target=f"person:{person_id}",
        detail={"links_removed": removed},
    )
    return removed


def _purge_old(session: Session, now: datetime, max_age: timedelta) -> None:
    """Drop records the ``iat`` check already refuses (keeps the table to recent sessions)."""
    session.execute(
        delete(SignInSession).where(SignInSession.started_at < now - KEEP_RECORDS_FOR * max_age)
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
