"""Who is signed in, read once per page view: the one adapter over ``st.user`` and the demo picker.

In production (``WELLBEING_AUTH_MODE=oidc``) Streamlit's ``st.login`` keeps the identity token's
claims in a signed cookie for 30 days and cannot end it early. So on every run this module checks
the token against the server's record (``models.identity``): the person is the one linked to the
provider account, the session must not be signed out and must be younger than
``WELLBEING_SESSION_MAX_HOURS``. Roles are read from the database each time (``models.access``),
so a change of role or team takes effect on the next page view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.settings import get_settings
from models.access import Viewer, load_viewer, load_viewer_by_id
from models.db import read_session, write_session
from models.identity import (
    MESSAGES,
    SignIn,
    Token,
    begin_session,
    check_session,
    end_session,
    read_token,
)

DEMO_EMAIL_KEY = "demo_email"
# Set at sign-in: app/main.py then opens the role's own first page, whatever the URL was.
LAND_KEY = "land_on_own_page"


@dataclass(frozen=True)
class SignInState:
    """The viewer, or why there is none: ``signed_out`` (never signed in here) or a
    ``models.identity`` status such as ``unknown``, ``unverified``, ``ended`` or ``expired``."""

    viewer: Viewer | None
    status: str
    email: str | None = None

    @property
    def message(self) -> str:
        return MESSAGES.get(self.status, "")


def _token() -> Token | None:
    """The identity token's identifying claims, or None when nobody is signed in at the provider."""
    if not st.user.get("is_logged_in", False):
        return None
    return read_token(st.user.to_dict())


def _max_age() -> timedelta:
    return timedelta(hours=get_settings().session_max_hours)


def current(engine: Engine) -> SignInState:
    """The signed-in viewer with their roles as they stand now, or the reason there is none."""
    if get_settings().auth_mode == "demo":
        email = st.session_state.get(DEMO_EMAIL_KEY)
        if not email:
            return SignInState(None, "signed_out")
        with read_session(engine) as session:
            viewer = load_viewer(session, email)
        return SignInState(viewer, "signed_in" if viewer else "unknown", email)
    if not st.user.get("is_logged_in", False):
        return SignInState(None, "signed_out")
    token = _token()
    if token is None:
        return SignInState(None, "invalid")
    with read_session(engine) as session:
        result = check_session(session, token, max_age=_max_age())
        viewer = (
            load_viewer_by_id(session, result.person_id)
            if result.status == "signed_in" and result.person_id is not None
            else None
        )
    if result.status == "new":
        result = _begin(engine, token)
        if result.status == "signed_in" and result.person_id is not None:
            with read_session(engine) as session:
                viewer = load_viewer_by_id(session, result.person_id)
    if result.to_record_end:
        with write_session(engine) as session:  # recorded once: later copies read "expired"
            end_session(session, token, reason="expired")
    if result.status == "signed_in" and viewer is None:
        return SignInState(None, "unknown", token.email)
    return SignInState(viewer, result.status, token.email)


def _begin(engine: Engine, token: Token) -> SignIn:
    """Record a new session (linking a first sign-in); a second tab racing to record the same
    session fails on the unique key, and the retry finds the first one's record."""
    for attempt in (1, 2):
        try:
            with write_session(engine) as session:
                return begin_session(session, token, max_age=_max_age())
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def sign_out(engine: Engine) -> None:
    """End the session here (recorded, so a copy of the cookie is refused too), then at Streamlit
    and, where the provider offers it, at the provider."""
    if get_settings().auth_mode == "demo":
        st.session_state.pop(DEMO_EMAIL_KEY, None)
        st.rerun()
    token = _token()
    if token is not None:
        with write_session(engine) as session:
            end_session(session, token)
    st.logout()
