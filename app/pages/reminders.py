"""Pulse reminders (HR): do reminders help? For closed weeks only, through the released figures.

Per released week: invitations and reminders sent (banded), the response rate before the reminder
and at close, the split suppressed where either side stands on fewer than k people. The numbers
come from ``analytics.reminders``; the page only draws them. Each view is audited.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlmodel import col, select

from analytics.reminders import reminder_effect
from app import ui
from app.i18n import _
from models.access import AccessDenied
from models.audit import record
from models.db import read_session, write_session
from models.org import Unit

VIEWED_KEY = "reminders_viewed"


def main() -> None:
    st.title(_("Pulse reminders"))
    viewer = ui.require_viewer()
    if not (viewer.is_hr or viewer.is_admin):
        st.error(_("This page is for HR."))
        st.stop()
    settings = ui.settings()
    with read_session(ui.engine()) as session:
        query = select(Unit.name, Unit.id).where(col(Unit.parent_id).is_(None)).order_by(Unit.name)
        names = {str(name): int(unit_id) for name, unit_id in session.exec(query).all()}  # type: ignore[arg-type]
    if not names:
        st.info(_("There is no organisation yet."))
        return
    chosen = st.selectbox(_("Organisation"), list(names)) if len(names) > 1 else next(iter(names))
    organisation_id = names[chosen]
    try:
        with read_session(ui.engine()) as session:
            table = reminder_effect(
                session, viewer, organisation_id=organisation_id, rules=settings.privacy_rules()
            )
    except AccessDenied as error:
        st.error(str(error))
        st.stop()
    st.write(
        "Invitations go when the pulse opens and reminders later in the week, only to people who "
        "had not answered, and nobody is told who. Here, for weeks that have closed and been "
        "released only, is how many went out and how the response rate stood before the reminder "
        "and when the week closed. Counts under 10 are shown as a band; the split is hidden where "
        f"fewer than {settings.min_group_size} people stand on either side of it."
    )
    if table.empty:
        st.info(_("No week has been released yet: figures appear once a week has closed."))
    else:
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    if not st.session_state.get(f"{VIEWED_KEY}:{organisation_id}"):
        with write_session(ui.engine()) as session:
            record(
                session, actor=viewer.email, action="view.reminders", target=f"unit:{organisation_id}"
            )
        st.session_state[f"{VIEWED_KEY}:{organisation_id}"] = True


main()
