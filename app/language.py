"""The reader's language in Streamlit: which one is in force for this run, the sidebar control
that changes it, and ``<html lang>`` to match (screen readers pick their voice from it).

``apply`` runs at the start of every run in ``app/main.py``, before any text is drawn, so page
titles, the menu and every page come out in one language. The person's choice is saved on their
``person`` row (``models/org_language.py``) and kept in the session so a rerun asks the database once.
"""

from __future__ import annotations

import json

import streamlit as st

from app import ui
from app.i18n import _, current_language, use_language
from models.access import Viewer
from models.db import read_session, write_session
from models.language import (
    DEFAULT_LANGUAGE,
    ENGLISH,
    LANGUAGES,
)
from models.org_language import (
    language_for_person,
    organisation_default,
    set_organisation_default,
    set_person_language,
)

# Session state: {"person_id": ..., "language": ..., "chosen": bool (picked in the control)}.
LANGUAGE_KEY = "interface_language"
CONTROL_KEY = "interface_language_control"


def _remembered(person_id: int | None) -> str | None:
    kept = st.session_state.get(LANGUAGE_KEY)
    if isinstance(kept, dict) and kept.get("person_id") == person_id:
        return kept.get("language")
    return None


def _remember(person_id: int | None, language: str, *, chosen: bool = False) -> None:
    st.session_state[LANGUAGE_KEY] = {"person_id": person_id, "language": language, "chosen": chosen}


def _chosen_before_sign_in() -> str | None:
    """The language a visitor picked on the sign-in page, if they picked one."""
    kept = st.session_state.get(LANGUAGE_KEY)
    if isinstance(kept, dict) and kept.get("person_id") is None and kept.get("chosen"):
        return kept.get("language")
    return None


def apply(viewer: Viewer | None) -> str:
    """Choose this run's language: the signed-in person's (their choice, else the organisation's
    default), or for a visitor not signed in what they picked on the sign-in page, else English.
    A language picked on the sign-in page becomes the person's choice when they sign in."""
    person_id = viewer.person_id if viewer is not None else None
    language = _remembered(person_id)
    if language is None:
        picked = _chosen_before_sign_in()
        if person_id is None:
            language = DEFAULT_LANGUAGE
        elif picked is not None:
            with write_session(ui.engine()) as session:
                set_person_language(session, person_id, picked)
            language = picked
        else:
            with read_session(ui.engine()) as session:
                language = language_for_person(session, person_id)
        _remember(person_id, language)
    use_language(language)
    return language


def _changed(person_id: int | None) -> None:
    language = st.session_state.get(CONTROL_KEY)
    if language not in LANGUAGES:
        return
    if person_id is not None:
        with write_session(ui.engine()) as session:
            set_person_language(session, person_id, language)
    _remember(person_id, language, chosen=True)


def control(viewer: Viewer | None) -> None:
    """The language switch in the sidebar; a signed-in person's choice is saved for next time."""
    person_id = viewer.person_id if viewer is not None else None
    st.session_state[CONTROL_KEY] = current_language()
    with st.sidebar:
        # A select box: a radio group would join the pulse's questions (tests and assistive tech
        # count st.radio groups), and a segmented control's focused state fails contrast.
        st.selectbox(
            _("Language"),
            options=list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            key=CONTROL_KEY,
            on_change=_changed,
            args=(person_id,),
        )


def set_document_language() -> None:
    """``<html lang>`` of the page to the interface language (Streamlit always writes "en")."""
    code = json.dumps(current_language())
    st.html(
        f"<script>document.documentElement.lang = {code};</script>",
        unsafe_allow_javascript=True,
    )


def mark_english(keys: list[str]) -> None:
    """Mark the widgets of ``keys`` (questions shown in English as published to a reader of
    another language) ``lang="en"``, so a screen reader reads them with an English voice. The
    widgets carry Streamlit's ``st-key-<key>`` class; an observer marks them as they are drawn."""
    if not keys or current_language() == ENGLISH:
        return
    selectors = json.dumps(", ".join(f".st-key-{key}" for key in keys))
    st.html(  # one observer per page, kept: a rerun may draw the questions anew
        "<script>(() => {"
        f"window.wotEnglishSelectors = {selectors};"
        "const mark = () => document.querySelectorAll(window.wotEnglishSelectors)"
        ".forEach((el) => { if (el.lang !== 'en') el.lang = 'en'; });"
        "mark();"
        "if (!window.wotEnglishObserver) {"
        "window.wotEnglishObserver = new MutationObserver(mark);"
        "window.wotEnglishObserver.observe(document.body, {childList: true, subtree: true});"
        "}"
        "})();</script>",
        unsafe_allow_javascript=True,
    )


def organisation_default_control(viewer: Viewer, organisation_id: int) -> None:
    """The admin's choice of the language everyone in the organisation sees until they choose."""
    with read_session(ui.engine()) as session:
        current = organisation_default(session, organisation_id) or DEFAULT_LANGUAGE
    options = list(LANGUAGES)
    chosen = st.selectbox(
        _("Default language of the interface"),
        options,
        index=options.index(current),
        format_func=LANGUAGES.__getitem__,
        help=_(
            "Everyone who has not chosen a language in the sidebar sees this one, from the next "
            "time they open the tool."
        ),
        key=f"default_language_{organisation_id}",
    )
    if chosen != current:
        with write_session(ui.engine()) as session:
            set_organisation_default(session, viewer, organisation_id=organisation_id, language=chosen)
        st.success(
            _("Saved: the default language is now {language}.").format(language=LANGUAGES[chosen])
        )
