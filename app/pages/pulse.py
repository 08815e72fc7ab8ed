"""Weekly pulse: the staff form, its thank-you and "already answered" states, and what happens to
an answer. Validation and storage live in ``surveys.submit``; this page only collects and shows."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st

from app import language, ui
from app.i18n import N_, _, current_language
from models.base import iso_week
from models.db import read_session, write_session
from models.language import ENGLISH
from surveys.composition import Composition
from surveys.instrument_translations import InstrumentTranslation
from surveys.instruments import Instrument, Item
from surveys.reminders.message import OPT_OUT_LABEL
from surveys.reminders.preferences import is_opted_out, set_opt_out
from surveys.submit import (
    AlreadyAnswered,
    SubmissionError,
    SubmissionUnavailable,
    composition_for,
    has_answered,
    organisation_of,
    submit_pulse,
)

DONE_KEY = "pulse_done"  # session state: {"week": ..., "comment_scrubbed": ...} after a submission
INTRO = {
    "who5": N_("Over the last two weeks…"),
    "ons4": N_("About your life nowadays, and yesterday…"),
    "swemwbs": N_("Over the last 2 weeks…"),
    "hse": N_("Thinking about your work this week…"),
}

PRIVACY_NOTICE = N_("""
**Your answer is anonymous by design.**

- Your answers are stored with your **team** and the **week** only: never your name, e-mail,
  staff number or the time you answered.
- Separately we keep a scrambled code that says *someone* with your sign-in answered this week,
  so you can only answer once. That code cannot be matched to your answers, not even by the people
  who run the system.
- Your manager and HR only ever see **totals and averages**, and only when at least {k} people's
  answers are behind a figure (small teams are combined over several weeks or with a larger
  unit). Comments are only shown once at least {k_comments} people have answered.
- Before a comment is stored, **names of colleagues, e-mail addresses and phone numbers are
  removed**. Please don't write anything that would identify you or anyone else.
- Answering is voluntary. You can see exactly what your manager and HR can see on the page
  *What others can see*.
""")


def _question_label(number: int, item: Item, translation: InstrumentTranslation | None) -> str:
    return f"{number}. {translation.text(item.id) if translation else item.text}"


def _intro(instrument: Instrument, translation: InstrumentTranslation | None) -> str:
    if translation is not None and translation.recall_period:
        return translation.recall_period
    return _(INTRO[instrument.id]) if instrument.id in INTRO else instrument.recall_period


def _thank_you(done: dict) -> None:
    st.success(
        _("Thank you! Your answers for this week are saved anonymously. See you next week."),
        icon=":material/check_circle:",
    )
    if done.get("comment_scrubbed"):
        st.info(
            _(
                "We removed names, e-mail addresses or phone numbers from your comment before "
                "storing it."
            ),
            icon=":material/shield:",
        )


def _form(composition: Composition, week: str) -> dict | None:
    """Draw the form; return what was entered once it is submitted."""
    with st.form("pulse_form", enter_to_submit=False, border=True):
        number = 0
        in_english: list[str] = []  # keys of items shown in English to a reader of another language
        for instrument, item_ids in composition.parts:
            translation = instrument.translation(current_language())
            st.subheader(_intro(instrument, translation), anchor=False)
            if translation is None and current_language() != ENGLISH:
                st.caption(
                    _(
                        "These questions are shown in English as published: there is no licensed "
                        "translation of them into your language."
                    )
                )
            for item_id in item_ids:
                item = instrument.item(item_id)
                number += 1
                key = f"pulse_{week}_{item_id}"
                st.radio(
                    _question_label(number, item, translation),
                    options=list(item.scale.values),
                    format_func=item.scale.label
                    if translation is None
                    else partial(translation.label, item.scale.id, minimum=item.scale.min),
                    index=None,
                    horizontal=True,
                    key=key,
                )
                if translation is None:
                    in_english.append(key)
        language.mark_english(in_english)
        st.subheader(_("Where did you work this week?"), anchor=False)
        st.caption(
            _("Number of days at each place (leave blank if you'd rather not say; at most 7 in total).")
        )
        columns = st.columns(3)
        places = (("days_home", _("Days at home")), ("days_office", _("Days at an office")),
                  ("days_site", _("Days on site or in the community")))  # fmt: skip
        for column, (key, label) in zip(columns, places, strict=True):
            with column:
                st.number_input(
                    label, min_value=0, max_value=7, step=1, value=None, key=f"pulse_{week}_{key}"
                )
        st.text_area(
            _("Anything you'd like to add? (optional, up to 500 characters)"),
            max_chars=500,
            key=f"pulse_{week}_comment",
            help=_("Names, e-mail addresses and phone numbers are removed before it is stored."),
        )
        st.caption(
            _("Names of colleagues, e-mail addresses and phone numbers are removed from comments.")
        )
        if not st.form_submit_button(_("Send my answers"), type="primary"):
            return None
    state = st.session_state
    return {
        "answers": {item.id: state.get(f"pulse_{week}_{item.id}") for _, item in composition.items},
        "days": {
            key: state.get(f"pulse_{week}_{key}") for key in ("days_home", "days_office", "days_site")
        },
        "comment": (state.get(f"pulse_{week}_comment") or "").strip() or None,
    }


def _save_reminder_choice(person_id: int, key: str) -> None:
    with write_session(ui.engine()) as session:
        set_opt_out(session, person_id=person_id, opted_out=not st.session_state[key])
    st.toast(_("Pulse e-mails turned on.") if st.session_state[key] else _("Pulse e-mails turned off."))


def _reminder_choice(person_id: int) -> None:
    """The person's own switch for invitations and reminders; it takes effect at once."""
    key = f"pulse_reminders_{person_id}"
    if key not in st.session_state:
        with read_session(ui.engine()) as session:
            st.session_state[key] = not is_opted_out(session, person_id)
    st.toggle(
        _(OPT_OUT_LABEL),
        key=key,
        on_change=_save_reminder_choice,
        args=(person_id, key),
        help=_(
            "A reminder only ever goes to people who have not answered yet, and nobody is told "
            "who that is. Turn this off to get no pulse e-mails at all."
        ),
    )


def main() -> None:
    st.title(_("Weekly pulse"), anchor=False)  # no "link to heading" stop before the questions
    viewer = ui.require_viewer()
    settings = ui.settings()
    week = iso_week(date.today())
    with st.expander(_("What happens to my answer?"), icon=":material/lock:"):
        st.markdown(
            _(PRIVACY_NOTICE).format(
                k=settings.min_group_size, k_comments=settings.min_comment_group_size
            )
        )
    if viewer.team_id is None or viewer.person_id is None:
        st.info(
            _(
                "You are not in a team yet, so there is no pulse for you to answer. "
                "Please ask your administrator to add you to your team."
            ),
            icon=":material/group_off:",
        )
        return
    _reminder_choice(viewer.person_id)
    key = settings.participation_key.get_secret_value().encode()
    done = st.session_state.get(DONE_KEY)
    if done and done.get("week") == week and done.get("person_id") == viewer.person_id:
        _thank_you(done)
        return
    engine = ui.engine()
    with read_session(engine) as session:
        answered = has_answered(session, person_id=viewer.person_id, week=week, participation_key=key)
        composition = composition_for(
            session, organisation_id=organisation_of(session, viewer.team_id), week=week
        )
    if answered:
        st.info(
            _(
                "You have already answered this week's pulse ({week}). Thank you! "
                "The next one opens on Monday."
            ).format(week=week),
            icon=":material/event_available:",
        )
        return
    st.caption(
        _("Week {week} · {count} quick questions · about a minute").format(
            week=week, count=len(composition.items)
        )
    )
    entered = _form(composition, week)
    if entered is None:
        return
    unanswered = [
        _question_label(number, item, instrument.translation(current_language()))
        for number, (instrument, item) in enumerate(composition.items, start=1)
        if entered["answers"][item.id] is None
    ]
    if unanswered:  # st.error is a role=alert region: a screen reader reads it out at once
        st.error(
            _("Nothing has been saved yet. Please answer:")
            + "\n\n"
            + "\n".join(f"- {ui.escape_markdown(label)}" for label in unanswered)
        )
        return
    try:
        result = submit_pulse(
            engine,
            person_id=viewer.person_id,
            team_id=viewer.team_id,
            week=week,
            answers=entered["answers"],
            comment=entered["comment"],
            participation_key=key,
            composition=composition,
            **entered["days"],
        )
    except AlreadyAnswered as error:
        st.info(_(str(error)), icon=":material/event_available:")
        return
    except SubmissionUnavailable as error:
        st.warning(_(str(error)), icon=":material/schedule:")
        return
    except SubmissionError as error:
        st.error(
            _("Your answers were not saved. Please check:")
            + "\n\n"
            + "\n".join(f"- {ui.escape_markdown(p)}" for p in error.problems)
        )
        return
    st.session_state[DONE_KEY] = {
        "week": result.week,
        "person_id": viewer.person_id,
        "comment_scrubbed": result.comment_scrubbed,
    }
    st.rerun()


ui.run_page(main)
