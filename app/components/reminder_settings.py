"""The Admin page's Reminders tab: the organisation's switch, its schedule, and what is set up.

The switch applies at once; a schedule change from next week. Both are audited by the services in
``surveys.reminders.preferences``. The SMTP password and the webhook address are settings, never
shown here beyond whether they are set.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app import ui
from app.i18n import _
from models.access import Viewer
from models.base import iso_week
from models.db import read_session, write_session
from models.org import Unit
from models.org_settings import next_week
from surveys.reminders.preferences import (
    reminders_enabled,
    schedule_for,
    set_reminders_enabled,
    set_schedule,
    set_webhook,
    webhook_set_by,
)
from surveys.reminders.schedule import (
    MAX_REMINDERS,
    NATION_NAMES,
    WEEKDAY_NAMES,
    WEEKDAYS,
    Moment,
    ReminderSchedule,
    ScheduleError,
)

TIMES = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in (0, 30)]


def _time_index(at: str) -> int:
    return TIMES.index(at) if at in TIMES else TIMES.index("09:00")


def _moment(label: str, moment: Moment, key: str) -> Moment:
    left, right = st.columns(2)
    with left:
        day = st.selectbox(
            _("{label}: day").format(label=label), WEEKDAYS, index=WEEKDAYS.index(moment.day),
            format_func=WEEKDAY_NAMES.__getitem__, key=f"{key}_day",
        )  # fmt: skip
    with right:
        at = st.selectbox(
            _("{label}: time").format(label=label), TIMES, index=_time_index(moment.at),
            key=f"{key}_time",
        )  # fmt: skip
    return Moment(day, at)


def _channels(viewer: Viewer, organisation_id: int, organisation_code: str) -> None:
    """What is set up; the webhook address can be set here (a secret: never shown back)."""
    settings = ui.settings()
    mail = (
        _("e-mail through {host}:{port}").format(host=settings.smtp_host, port=settings.smtp_port)
        if settings.smtp_host
        else _("e-mail is **not set up** (WELLBEING_SMTP_HOST)")
    )
    with read_session(ui.engine()) as session:
        stored = webhook_set_by(session, organisation_id)
    if stored is not None:
        post = _("a Teams/Slack webhook set on this page by {who} on {when}").format(
            who=ui.escape_markdown(stored[0]), when=stored[1]
        )
    elif settings.webhook_url is not None or organisation_code in settings.webhook_urls:
        post = _("a Teams/Slack webhook from the server's settings")
    else:
        post = _("no Teams/Slack webhook")
    st.caption(_("Channels: {mail}; {post}.").format(mail=mail, post=post))
    with st.form("reminder_webhook", enter_to_submit=False, clear_on_submit=True):
        url = st.text_input(
            _("Teams Workflows or Slack incoming webhook address"),
            type="password",
            help=_("Kept as a secret: never shown again, and not written to the audit log."),
        )
        left, right = st.columns(2)
        save = left.form_submit_button(_("Save webhook"))
        clear = right.form_submit_button(_("Remove webhook"), disabled=stored is None)
    if save or clear:
        try:
            with write_session(ui.engine()) as session:
                set_webhook(session, viewer, organisation_id=organisation_id, url=None if clear else url)
        except ValueError as error:
            st.error(_("Not saved: {reason}.").format(reason=error))
            return
        st.success(_("Webhook removed.") if clear else _("Webhook saved."))


def render(viewer: Viewer, organisation_id: int) -> None:
    """Draw the tab for one organisation."""
    viewer.require("admin")
    today = date.today()
    this_week, upcoming_week = iso_week(today), next_week(iso_week(today))
    zone = ui.settings().time_zone
    with read_session(ui.engine()) as session:
        code = session.get(Unit, organisation_id).code  # type: ignore[union-attr]
        enabled = reminders_enabled(session, organisation_id=organisation_id, week=this_week)
        current = schedule_for(session, organisation_id=organisation_id, week=this_week, time_zone=zone)
        upcoming = schedule_for(
            session, organisation_id=organisation_id, week=upcoming_week, time_zone=zone
        )
    st.write(
        _(
            "Invitations when the pulse opens and reminders go by e-mail (and a post to Teams or Slack) "
            "only to people who have not answered that week, worked out on the server; nobody is told "
            "who. People can turn them off on their pulse page. Run `wellbeing remind` on a schedule "
            "(see the README)."
        )
    )
    _channels(viewer, organisation_id, code)
    state = _("**on**") if enabled else _("**off**")
    st.write(_("This week: {state}; {schedule}.").format(state=state, schedule=current.describe()))
    if upcoming != current:
        st.info(_("From week {week}: {title}.").format(week=upcoming_week, title=upcoming.describe()))
    switch = _("Turn reminders off") if enabled else _("Turn reminders on")
    if st.button(switch, key="reminders_switch"):
        with write_session(ui.engine()) as session:
            set_reminders_enabled(
                session, viewer, organisation_id=organisation_id, enabled=not enabled, today=today
            )
        st.rerun()

    with st.form("reminder_schedule", enter_to_submit=False):
        st.subheader(_("Schedule (from next week)"))
        invitation = _moment(_("Invitation"), upcoming.invitation, "invite")
        count = st.number_input(
            _("Number of reminders"), min_value=0, max_value=MAX_REMINDERS, value=len(upcoming.reminders)
        )
        defaults = [*upcoming.reminders, *[Moment("thu", "10:00")] * MAX_REMINDERS]
        reminders = tuple(
            _moment(_("Reminder {number}").format(number=i + 1), defaults[i], f"reminder_{i}")
            for i in range(MAX_REMINDERS)
        )
        st.caption(_("Only the first reminders, up to the number above, are used."))
        left, right = st.columns(2)
        with left:
            quiet_from = st.selectbox(
                _("Quiet hours from"), TIMES, index=_time_index(upcoming.quiet_from)
            )
        with right:
            quiet_until = st.selectbox(
                _("Quiet hours until"), TIMES, index=_time_index(upcoming.quiet_until)
            )
        nations = list(NATION_NAMES)
        nation = st.selectbox(
            _("Skip the bank holidays of"), nations, index=nations.index(upcoming.bank_holidays),
            format_func=NATION_NAMES.__getitem__,
        )  # fmt: skip
        submitted = st.form_submit_button(_("Schedule from next week"), type="primary")
    if submitted:
        try:
            chosen = ReminderSchedule(
                invitation=invitation,
                reminders=reminders[: int(count)],
                quiet_from=quiet_from,
                quiet_until=quiet_until,
                bank_holidays=nation,
                time_zone=zone,
            )
        except ScheduleError as error:
            st.error(f"Not saved: {error}.")
            return
        if chosen == upcoming:
            st.info(_("Nothing changed."))
            return
        with write_session(ui.engine()) as session:
            week = set_schedule(
                session, viewer, organisation_id=organisation_id, schedule=chosen, today=today
            )
        st.success(f"Saved: the new schedule applies from week {week}.")
