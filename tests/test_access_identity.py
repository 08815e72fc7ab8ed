"""Sign-in as the service layer decides it (models/identity.py), on SQLite and PostgreSQL: people
matched on the provider's stable identifier, linked once by a verified e-mail, and sessions that
end at sign-out and after the maximum age, for every copy of the cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from models.access import AccessDenied, Viewer, load_viewer_by_id
from models.db import read_session, write_session
from models.identity import (
    IdentityLink,
    SignIn,
    SignInSession,
    begin_session,
    check_session,
    end_session,
    read_token,
    unlink_person,
)
from models.org import Person, RoleGrant, Unit
from models.outcomes import AuditEntry

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=8)
ISSUER = "https://login.council.test"
ADMIN = Viewer("admin@council.test", "Admin", None, None, frozenset({"admin"}))


def claims(
    subject: str, email: str | None, *, verified: Any = True, at: datetime = NOW, **extra: Any
) -> dict:
    """An identity token's claims as Streamlit keeps them in its cookie (st.user)."""
    found: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "iat": int(at.timestamp()),
        "nonce": "n-" + subject,
    }
    if email is not None:
        found["email"] = email
    if verified is not None:
        found["email_verified"] = verified
    return {**found, **extra}


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """An HR person (no team) and a member of staff."""
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Council", kind="organisation")
        session.add(org)
        session.flush()
        team = Unit(code="T1", name="Repairs", kind="team", parent_id=org.id)
        session.add(team)
        session.flush()
        hr = Person(email="hr@council.test", display_name="Hana HR")
        staff = Person(email="sam@council.test", display_name="Sam Staff", team_id=team.id)
        session.add_all([hr, staff])
        session.flush()
        session.add(RoleGrant(person_id=hr.id, role="hr"))
        return {"hr": hr.id, "staff": staff.id}  # type: ignore[dict-item]


def sign_in(engine: Engine, token_claims: dict, *, now: datetime = NOW) -> SignIn:
    token = read_token(token_claims)
    assert token is not None
    with read_session(engine) as session:
        known = check_session(session, token, max_age=MAX_AGE, now=now)
    if known.status != "new":
        return known
    with write_session(engine) as session:
        return begin_session(session, token, max_age=MAX_AGE, now=now)


def test_first_verified_sign_in_links_the_account_and_the_person_gets_their_roles(
    engine: Engine, people: dict[str, int]
) -> None:
    result = sign_in(engine, claims("subject-hr", "HR@Council.test"))
    assert (result.status, result.person_id) == ("signed_in", people["hr"])
    with read_session(engine) as session:
        link = session.exec(select(IdentityLink)).one()
        assert (link.issuer, link.subject, link.linked_email) == (
            ISSUER,
            "subject-hr",
            "hr@council.test",
        )
        viewer = load_viewer_by_id(session, result.person_id)  # type: ignore[arg-type]
    assert viewer is not None and viewer.is_hr


def test_a_changed_email_under_the_same_subject_is_still_the_same_person(
    engine: Engine, people: dict[str, int]
) -> None:
    sign_in(engine, claims("subject-hr", "hr@council.test"))
    later = NOW + timedelta(days=3)
    renamed = claims("subject-hr", "hana.new@elsewhere.test", at=later)
    result = sign_in(engine, renamed, now=later)
    assert (result.status, result.person_id) == ("signed_in", people["hr"])
    # Even an unverified new address: after the link the e-mail claim decides nothing.
    unverified = claims("subject-hr", "x@elsewhere.test", verified=False, at=later, nonce="other")
    assert sign_in(engine, unverified, now=later).person_id == people["hr"]


@pytest.mark.usefixtures("people")
def test_an_unverified_email_under_another_subject_gets_nothing(engine: Engine) -> None:
    for verified in (False, "false", None):
        result = sign_in(engine, claims("attacker", "hr@council.test", verified=verified))
        assert (result.status, result.person_id) == ("unverified", None)
    with read_session(engine) as session:
        assert session.exec(select(IdentityLink)).all() == []
        assert session.exec(select(SignInSession)).all() == []


@pytest.mark.usefixtures("people")
def test_preferred_username_is_never_used_to_find_a_person(engine: Engine) -> None:
    token = claims("someone", None, verified=None, preferred_username="hr@council.test")
    assert sign_in(engine, token).status == "unverified"


@pytest.mark.usefixtures("people")
def test_a_verified_email_nobody_has_is_unknown(engine: Engine) -> None:
    assert sign_in(engine, claims("stranger", "nobody@council.test")).status == "unknown"


def test_a_second_account_with_a_linked_persons_email_is_refused_until_unlinked(
    engine: Engine, people: dict[str, int]
) -> None:
    sign_in(engine, claims("subject-hr", "hr@council.test"))
    assert sign_in(engine, claims("another-subject", "hr@council.test")).status == "conflict"
    staff_viewer = Viewer("sam@council.test", "Sam", people["staff"], None, frozenset({"staff", "hr"}))
    with write_session(engine) as session, pytest.raises(AccessDenied):
        unlink_person(session, staff_viewer, person_id=people["hr"])
    with write_session(engine) as session:
        assert unlink_person(session, ADMIN, person_id=people["hr"]) == 1
    with read_session(engine) as session:
        assert session.exec(select(AuditEntry.action)).all() == ["identity.unlink"]
    later = NOW + timedelta(minutes=1)
    result = sign_in(engine, claims("another-subject", "hr@council.test", at=later), now=later)
    assert (result.status, result.person_id) == ("signed_in", people["hr"])


def test_entra_accounts_are_matched_on_tenant_and_object_id_and_xms_edov_verifies(
    engine: Engine, people: dict[str, int]
) -> None:
    entra = {
        "iss": "https://login.microsoftonline.com/tenant-1/v2.0",
        "sub": "pairwise-subject",
        "tid": "tenant-1",
        "oid": "object-1",
        "iat": int(NOW.timestamp()),
        "email": "sam@council.test",
        "xms_edov": True,
    }
    assert sign_in(engine, entra).person_id == people["staff"]
    with read_session(engine) as session:
        link = session.exec(select(IdentityLink)).one()
    assert (link.issuer, link.subject) == ("entra-tenant:tenant-1", "object-1")


@pytest.mark.usefixtures("people")
def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(engine: Engine) -> None:
    token_claims = claims("subject-staff", "sam@council.test")
    assert sign_in(engine, token_claims).status == "signed_in"
    with write_session(engine) as session:
        end_session(session, read_token(token_claims), now=NOW + timedelta(minutes=5))  # type: ignore[arg-type]
    copy = dict(token_claims)  # the same cookie, replayed from another browser
    assert sign_in(engine, copy, now=NOW + timedelta(minutes=6)).status == "ended"
    # A new sign-in is a new identity token (new iat and nonce): a new session.
    again = claims("subject-staff", "sam@council.test", at=NOW + timedelta(minutes=7), nonce="fresh")
    assert sign_in(engine, again, now=NOW + timedelta(minutes=7)).status == "signed_in"


@pytest.mark.usefixtures("people")
def test_a_session_ends_at_the_maximum_age_and_the_end_is_recorded(engine: Engine) -> None:
    token_claims = claims("subject-staff", "sam@council.test")
    assert sign_in(engine, token_claims).status == "signed_in"
    assert sign_in(engine, token_claims, now=NOW + MAX_AGE).status == "signed_in"
    late = NOW + MAX_AGE + timedelta(seconds=1)
    result = sign_in(engine, token_claims, now=late)
    assert (result.status, result.to_record_end) == ("expired", True)
    with write_session(engine) as session:
        end_session(session, read_token(token_claims), reason="expired", now=late)  # type: ignore[arg-type]
    with read_session(engine) as session:
        record = session.exec(select(SignInSession)).one()
    assert record.end_reason == "expired"
    assert sign_in(engine, token_claims, now=late).status == "expired"


@pytest.mark.usefixtures("people")
def test_an_old_cookie_never_seen_here_cannot_start_a_session(engine: Engine) -> None:
    old = claims("subject-staff", "sam@council.test", at=NOW - MAX_AGE - timedelta(minutes=1))
    assert sign_in(engine, old).status == "expired"
    with read_session(engine) as session:
        assert session.exec(select(SignInSession)).all() == []


@pytest.mark.usefixtures("people")
def test_tokens_without_what_identifies_them_are_refused(engine: Engine) -> None:
    assert read_token({"iss": ISSUER, "sub": "x", "email": "sam@council.test"}) is None  # no iat
    assert read_token({"sub": "x", "iat": 1, "email": "sam@council.test"}) is None  # no issuer
    assert read_token({**claims("x", "sam@council.test"), "iat": "soon"}) is None
    future = claims("subject-staff", "sam@council.test", at=NOW + timedelta(hours=1))
    assert sign_in(engine, future).status == "invalid"


def test_removing_a_person_removes_their_links_and_sessions(
    engine: Engine, people: dict[str, int]
) -> None:
    sign_in(engine, claims("subject-staff", "sam@council.test"))
    with write_session(engine) as session:
        session.delete(session.get(Person, people["staff"]))
    with read_session(engine) as session:
        assert session.exec(select(IdentityLink)).all() == []
        assert session.exec(select(SignInSession)).all() == []
    assert sign_in(engine, claims("subject-staff", "sam@council.test")).status == "unknown"


def test_records_past_any_use_are_purged_when_a_session_begins(
    engine: Engine, people: dict[str, int]
) -> None:
    sign_in(engine, claims("subject-staff", "sam@council.test"))
    much_later = NOW + 4 * MAX_AGE
    sign_in(engine, claims("subject-hr", "hr@council.test", at=much_later), now=much_later)
    with read_session(engine) as session:
        assert [r.person_id for r in session.exec(select(SignInSession)).all()] == [people["hr"]]


@pytest.mark.usefixtures("people")
def test_an_operator_unlinks_a_sign_in_from_the_command_line(engine: Engine) -> None:
    sign_in(engine, claims("subject-hr", "hr@council.test"))
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["unlink-sign-in", "HR@council.test", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "1 sign-in link(s) removed" in result.output
    with read_session(engine) as session:
        assert session.exec(select(IdentityLink)).all() == []
    unknown = CliRunner().invoke(cli, ["unlink-sign-in", "nobody@council.test", "--database-url", url])
    assert unknown.exit_code == 1 and "nobody in the organisation" in unknown.output
