"""Sign-in: in demo mode a list of demo accounts by role; in production, OpenID Connect."""

from __future__ import annotations

import streamlit as st
from sqlmodel import select

from app import ui
from app.settings import get_settings
from models.db import read_session
from models.org import Person, RoleGrant, Unit

ROLE_LABELS = {"staff": "Staff", "manager": "Manager", "hr": "HR", "admin": "Admin"}
ACCOUNTS_PER_ROLE = 8


def demo_accounts() -> list[tuple[str, str]]:
    """(label, email) for a handful of demo accounts of each role, HR and admins first."""
    accounts: list[tuple[str, str]] = []
    with read_session(ui.engine()) as session:
        team_names = dict(session.exec(select(Unit.id, Unit.name)).all())
        for role in ("hr", "admin", "manager"):
            rows = session.exec(
                select(Person, RoleGrant)
                .join(RoleGrant, RoleGrant.person_id == Person.id)
                .where(RoleGrant.role == role)
                .order_by(Person.email)
            ).all()
            seen: set[str] = set()
            for person, grant in rows:
                if person.email in seen or len(seen) >= ACCOUNTS_PER_ROLE:
                    continue
                seen.add(person.email)
                where = team_names.get(grant.unit_id) if grant.unit_id else None
                suffix = f" of {where}" if role == "manager" and where else ""
                accounts.append((f"{person.display_name} · {ROLE_LABELS[role]}{suffix}", person.email))
        granted = {email for _, email in accounts}
        staff = session.exec(
            select(Person).where(Person.team_id.is_not(None)).order_by(Person.email).limit(40)
        ).all()
        staff = [p for p in staff if p.email not in granted][:ACCOUNTS_PER_ROLE]
        for person in staff:
            accounts.append(
                (f"{person.display_name} · Staff in {team_names.get(person.team_id, '?')}", person.email)
            )
    return accounts


def _oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section (st.login needs it)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001  (no secrets file at all)
        return False


st.title("Wellbeing & Outcomes Tracker")
if get_settings().auth_mode == "oidc":
    email = ui.signed_in_email()
    if email:
        # Signed in at the identity provider but unknown here: least privilege means nothing.
        st.warning(
            f"You are signed in as {ui.escape_markdown(email)}, but that account has no access "
            "to this tool. "
            "Ask an administrator to add you to the organisation."
        )
        if st.button("Sign out"):
            st.logout()
    elif not _oidc_configured():
        st.error(
            "Sign-in is not configured: add an [auth] section to .streamlit/secrets.toml "
            "(see .streamlit/secrets.toml.example and the README)."
        )
    else:
        st.write("Sign in with your organisation account.")
        if st.button("Sign in", type="primary"):
            st.login()
else:
    accounts = demo_accounts()
    if not accounts:
        st.error("The database has no people yet. Run `wellbeing seed-demo` or `wellbeing import-org`.")
        st.stop()
    st.write("This is a demo. Pick an account to see the product as that person would.")
    labels = [label for label, _ in accounts]
    choice = st.selectbox("Demo account", labels, index=None, placeholder="Choose an account")
    if st.button("Sign in", type="primary", disabled=choice is None):
        st.session_state[ui.DEMO_EMAIL_KEY] = dict(accounts)[choice]
        st.rerun()
