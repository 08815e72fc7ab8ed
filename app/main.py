"""Streamlit entry point: role-based navigation where every page path opens cleanly.

Each page has its own URL for everyone: a role that may use it gets the page, anyone else a page
that says plainly it is not for them (registered hidden, so the menu shows only one's own pages),
and someone not signed in gets the sign-in page at any of these paths. The root URL sends each
role on to its own first page, so that page also has its own path (a bookmark, a link in an
e-mail). Hiding pages is only the menu: the services check the viewer on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from app import a11y, identity, language, ui
from app.i18n import N_, _
from app.settings import SettingsError, get_settings
from models.access import Viewer

PAGES = Path(__file__).resolve().parent / "pages"


@dataclass(frozen=True)
class RolePage:
    """A page one or more roles may use, at a fixed URL path."""

    file: str
    title: str
    icon: str
    url_path: str
    section: str
    allowed: Callable[[Viewer], bool]


ROLE_PAGES: tuple[RolePage, ...] = (
    RolePage(
        "pulse.py",
        N_("Weekly pulse"),
        ":material/favorite:",
        "pulse",
        N_("My pulse"),
        lambda v: v.is_staff,
    ),
    RolePage(
        "what_others_see.py",
        N_("What others can see"),
        ":material/visibility:",
        "what_others_see",
        N_("My pulse"),
        lambda v: v.is_staff,
    ),
    RolePage(
        "team_dashboard.py",
        N_("Team dashboard"),
        ":material/dashboard:",
        "team_dashboard",
        N_("My teams"),
        lambda v: v.is_manager,
    ),
    RolePage(
        "objectives.py",
        N_("Objectives"),
        ":material/flag:",
        "objectives",
        N_("My teams"),
        lambda v: v.is_manager,
    ),
    RolePage(
        "org_trends.py",
        N_("Organisation trends"),
        ":material/monitoring:",
        "org_trends",
        "Organisation",
        lambda v: v.is_hr,
    ),
    RolePage(
        "strain.py",
        N_("Teams under strain"),
        ":material/warning:",
        "strain",
        "Organisation",
        lambda v: v.is_hr,
    ),
    RolePage(
        "reminders.py",
        N_("Pulse reminders"),
        ":material/notifications:",
        "reminders",
        "Organisation",
        lambda v: v.is_hr,
    ),
    RolePage(
        "admin.py", N_("Admin"), ":material/settings:", "admin", N_("Settings"), lambda v: v.is_admin
    ),
)
# Where each role lands after signing in (and at the root URL): the first of these paths the viewer
# may use, so a person with several roles lands on the page of their widest role.
LANDING_ORDER: tuple[str, ...] = ("admin", "org_trends", "team_dashboard", "pulse")
SIGN_OUT_PATH = "sign_out"
NOT_FOR_YOU_TITLE = N_("Not for your role")


def _not_for_you(title: str) -> Callable[[], None]:
    def page() -> None:
        st.title(_(NOT_FOR_YOU_TITLE))
        st.info(
            _(
                "The {title} page is not for your role, so there is nothing to show you here. "
                "Your pages are in the menu."
            ).format(title=_(title)),
            icon=":material/block:",
        )

    return page


def _no_role() -> None:
    st.title(_("Wellbeing & Outcomes Tracker"))
    st.info(
        _(
            "You are signed in, but you have no role in this tool yet: you are not in a team and "
            "hold no manager, HR or admin role. Ask an administrator to add you to your team in the "
            "organisation file."
        ),
        icon=":material/person_off:",
    )


def landing_path(viewer: Viewer) -> str | None:
    """The url path of the viewer's own first page (None: no page of any role)."""
    for path in LANDING_ORDER:
        spec = next(spec for spec in ROLE_PAGES if spec.url_path == path)
        if spec.allowed(viewer):
            return path
    allowed = [spec.url_path for spec in ROLE_PAGES if spec.allowed(viewer)]
    return allowed[0] if allowed else None


def _sign_out_page() -> None:
    ui.sign_out()


def _signed_out_navigation() -> None:
    """The sign-in page at the root and at every page path (a bookmark opens sign-in, not an error)."""
    sign_in = PAGES / "sign_in.py"
    pages = [
        st.Page(sign_in, title=_("Sign in"), icon=":material/login:", url_path="sign_in", default=True)
    ]
    pages += [
        st.Page(sign_in, title=_("Sign in"), url_path=path, visibility="hidden")
        for path in (*(p.url_path for p in ROLE_PAGES), SIGN_OUT_PATH)
    ]
    statement = a11y.statement_page()  # open to everyone, signed in or not
    st.navigation([*pages, statement]).run()
    a11y.footer(statement)


def _role_navigation(viewer: Viewer) -> None:
    sections: dict[str, list[st.Page]] = {}
    hidden: list[st.Page] = []
    own: list[st.Page] = []
    landing_at = landing_path(viewer)
    landing: st.Page | None = None
    for spec in ROLE_PAGES:
        if spec.allowed(viewer):
            page = st.Page(
                PAGES / spec.file, title=_(spec.title), icon=spec.icon, url_path=spec.url_path
            )
            sections.setdefault(_(spec.section), []).append(page)
            own.append(page)
            if spec.url_path == landing_at:
                landing = page
        else:
            hidden.append(
                st.Page(
                    _not_for_you(spec.title),
                    title=_(spec.title),
                    url_path=spec.url_path,
                    visibility="hidden",
                )
            )
    if not own:  # known, but no team and no role: say so (signing out would end their IdP session)
        no_role = st.Page(
            _no_role, title=_("No role yet"), icon=":material/person_off:", url_path="no_role"
        )
        sections[_("Wellbeing & Outcomes")] = [no_role]
        own.append(no_role)
    if landing is None:
        landing = own[0]

    def home() -> None:
        st.switch_page(landing)

    hidden.append(st.Page(home, title=_("Home"), url_path="home", default=True, visibility="hidden"))
    sections[_("Account")] = [
        st.Page(_sign_out_page, title=_("Sign out"), icon=":material/logout:", url_path=SIGN_OUT_PATH)
    ]
    with st.sidebar:
        st.caption(_("Signed in as **{name}**").format(name=ui.escape_markdown(viewer.display_name)))
    statement = a11y.statement_page()  # open to everyone, signed in or not
    sections[""] = [*hidden, statement]
    page = st.navigation(sections)
    if st.session_state.pop(identity.LAND_KEY, False):
        st.switch_page(landing)
    page.run()
    a11y.footer(statement)


def run() -> None:
    st.set_page_config(page_title="Wellbeing & Outcomes", page_icon=":material/favorite:", layout="wide")
    try:
        settings = get_settings()
    except SettingsError as error:
        st.error(str(error))
        st.stop()
    viewer = ui.current_viewer()
    language.apply(viewer)
    st.set_page_config(page_title=_("Wellbeing & Outcomes"))
    language.set_document_language()
    a11y.enhance()
    if settings.environment == "demo":
        st.warning(
            _("Demo mode: sample organisation and demo sign-in. Do not enter real data."),
            icon=":material/science:",
        )
    language.control(viewer)
    if viewer is None:
        _signed_out_navigation()
    else:
        # Once per server process, after the sign-in page: keeps the first visit after a start fast.
        ui.settle_server_process()
        ui.start_dashboard_warmer()
        _role_navigation(viewer)


if __name__ == "__main__":  # Streamlit runs this file as __main__; tests import ROLE_PAGES
    run()
