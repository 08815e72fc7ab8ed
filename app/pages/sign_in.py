"""Sign-in: in demo mode a list of demo accounts by role; in production, OpenID Connect, and why a
sign-in at the provider gives no access here (unknown, unverified e-mail, session ended)."""

from __future__ import annotations

import streamlit as st
from sqlmodel import select

from app import identity, ui
from app.i18n import N_, _
from app.settings import get_settings
from models.db import read_session
from models.org import Person, RoleGrant, Unit

ROLE_LABELS = {"staff": N_("Staff"), "manager": N_("Manager"), "hr": N_("HR"), "admin": N_("Admin")}
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
                if role == "manager" and where:
                    label = _("{name} · Manager of {team}").format(name=person.display_name, team=where)
                else:
                    label = f"{person.display_name} · {_(ROLE_LABELS[role])}"
                accounts.append((label, person.email))
        granted = {email for _, email in accounts}
        staff = session.exec(
            select(Person).where(Person.team_id.is_not(None)).order_by(Person.email).limit(40)
        ).all()
        staff = [p for p in staff if p.email not in granted][:ACCOUNTS_PER_ROLE]
        for person in staff:
            team = team_names.get(person.team_id, "?")
            label = _("{name} · Staff in {team}").format(name=person.display_name, team=team)
            accounts.append((label, person.email))
    return accounts


def _oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section (st.login needs it)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001  (no secrets file at all)
        return False


def _oidc_sign_in() -> None:
    state = ui.sign_in_state()
    if state.status == "signed_out":
        if not _oidc_configured():
            st.error(
                _(
                    "Sign-in is not configured: add an [auth] section to .streamlit/secrets.toml "
                    "(see .streamlit/secrets.toml.example and the README)."
                )
            )
            return
        st.write(_("Sign in with your organisation account."))
        if st.button(_("Sign in"), type="primary"):
            st.login()
        return
    # Signed in at the provider, but not here: say why and leave the provider session alone
    # (with Entra ID, signing out here would end the person's Microsoft 365 session too).
    if state.status in ("ended", "expired", "invalid"):
        st.info(_(state.message), icon=":material/schedule:")
        if st.button(_("Sign in again"), type="primary"):
            st.login()
        return
    if state.email:
        warning = _("You are signed in as {email}, but: {reason}").format(
            email=ui.escape_markdown(state.email), reason=_(state.message)
        )
    else:
        warning = _("You are signed in, but: {reason}").format(reason=_(state.message))
    st.warning(warning, icon=":material/block:")
    left, right = st.columns(2)
    if left.button(_("Use another account")):
        st.login()
    if right.button(_("Sign out")):
        st.logout()


def _demo_sign_in() -> None:
    accounts = demo_accounts()
    if not accounts:
        st.error(
            _("The database has no people yet. Run `wellbeing seed-demo` or `wellbeing import-org`.")
        )
        st.stop()
    st.write(_("This is a demo. Pick an account to see the product as that person would."))
    labels = [label for label, _ in accounts]
    choice = st.selectbox(_("Demo account"), labels, index=None, placeholder=_("Choose an account"))
    if st.button(_("Sign in"), type="primary", disabled=choice is None):
        st.session_state[ui.DEMO_EMAIL_KEY] = dict(accounts)[choice]
        st.session_state[identity.LAND_KEY] = True  # app/main.py: on to the role's own first page
        st.rerun()


ui.through_navigation()
st.title(_("Wellbeing & Outcomes Tracker"))
if get_settings().auth_mode == "oidc":
    _oidc_sign_in()
else:
    _demo_sign_in()
