"""Accessibility statement, in the form GOV.UK recommends for public sector bodies (the Public Sector
Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018). Open to everyone,
signed in or not. The known exceptions come from the browser audit's allowlist (app/a11y.py), so
the statement and the test cannot disagree."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app import ui
from app.a11y import AXE_TAGS, load_allowlist
from app.i18n import N_, _, format_date

PREPARED = date(2026, 12, 3)
# Marked for translation here, translated where shown (app.i18n).
TESTED = N_("""
We test this service automatically every time it changes, in the Chromium browser:

- **axe-core**, Deque's accessibility engine, checks every page of every role (staff, manager, HR
  and administrator) and the sign-in page, at desktop width and at a phone width of 390 pixels,
  against the WCAG 2.0, 2.1 and 2.2 level A and AA rules ({tags}). Any serious or critical problem
  fails the test, except the ones listed below under *Non-compliance with the accessibility
  regulations*.
- **Keyboard only:** a test answers and sends the whole weekly pulse with the Tab, arrow and Enter
  keys alone, without a mouse. It checks that after signing in the focus is on the page's heading
  and the first question is 4 presses of the Tab key away, that the answer with the focus has a
  3 pixel outline with at least 3:1 contrast, and that an empty number-of-days box answers the
  arrow keys.
- **Phones:** a test answers and sends the weekly pulse by tapping at 390 by 844 pixels and at
  320 pixels wide, and checks that the page never scrolls sideways and that every answer, box and
  button is at least 24 by 24 pixels; another checks that the menu closes after you choose a page.
- **Charts:** every chart has a short summary, which is also its name for screen readers, and a
  table of the figures it draws under "The figures in this chart as a table". Tests check each
  summary and table against the chart's figures, and that every chart colour has at least 3:1
  contrast with the page; colour is never the only way a status is shown (shapes and written
  values show it too).
""")
KNOWN = N_("""
- charts can be explored point by point only with a mouse (their tooltips); their summary and
  table give the same figures to everyone
- the Welsh version is a draft that a Welsh speaker has not yet checked, and some of its text is
  still in English: sentences the service composes (such as why a figure is hidden), the names of
  chart categories, e-mails, and the words of the framework the service is built with
""")


def _exceptions() -> None:
    entries = load_allowlist()
    if not entries:
        st.markdown(_("Our automated tests find no serious or critical problems that we accept."))
        return
    st.markdown(
        _(
            "The automated tests find these problems in the Streamlit framework that this service is "
            "built with. We cannot fix them in our own pages; each links to the issue where Streamlit's "
            "developers track accessibility, and we will remove each one when a fix is released."
        )
    )
    for entry in entries:
        st.markdown(
            f"- {ui.escape_markdown(entry.reason)} This fails WCAG 2.2 success criterion "
            f"{ui.escape_markdown(entry.wcag)} (axe-core rule `{entry.rule}`; "
            f"[upstream issue]({entry.issue}))."
        )


def main() -> None:
    st.title(_("Accessibility statement"))
    st.markdown(
        _(
            "This accessibility statement applies to the Wellbeing & Outcomes Tracker: the weekly "
            "wellbeing pulse, the team and organisation dashboards, and their settings pages.\n\n"
            "This service is run by your organisation. We want as many people as possible to be able "
            "to use it. For example, that means you should be able to:\n\n"
            "- change colours, contrast levels and fonts using browser or device settings\n"
            "- zoom in up to 400% without the text spilling off the screen\n"
            "- answer the weekly pulse using just a keyboard\n"
            "- answer the weekly pulse on a phone without scrolling sideways\n"
            "- use the service with a screen reader\n\n"
            "We have also made the text as simple as possible to understand."
        )
    )
    st.header(_("How accessible this service is"))
    st.markdown(_("We know some parts of this service are not fully accessible:") + "\n" + _(KNOWN))
    st.header(_("Feedback and contact information"))
    st.markdown(
        _(
            "If you need information in this service in a different format, or find a problem not "
            "listed on this page, contact your HR team or the administrator of this service. We'll "
            "consider your request and get back to you."
        )
    )
    st.header(_("Enforcement procedure"))
    st.markdown(
        _(
            "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public "
            "Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018 "
            "(the 'accessibility regulations'). If you're not happy with how we respond to your "
            "complaint, contact the Equality Advisory and Support Service (EASS)."
        )
    )
    st.header(_("Technical information about this service's accessibility"))
    st.markdown(
        _(
            "Your organisation is committed to making this service accessible, in accordance with "
            "the accessibility regulations."
        )
    )
    st.subheader(_("Compliance status"))
    st.markdown(
        _(
            "This service is partially compliant with the Web Content Accessibility Guidelines "
            "version 2.2 AA standard, due to the non-compliances listed below."
        )
    )
    st.subheader(_("Non-accessible content"))
    st.markdown(_("#### Non-compliance with the accessibility regulations"))
    _exceptions()
    st.header(_("What we're doing to improve accessibility"))
    st.markdown(
        _(
            "Every change to the service runs the tests described below; a new serious or critical "
            "problem stops the change. We are working on the known issues listed above, including "
            "the text still in English in the Welsh version."
        )
    )
    st.header(_("Preparation of this accessibility statement"))
    st.markdown(
        _(
            "This statement was prepared on {date}. It is checked against the automated tests "
            "each time the service changes."
        ).format(date=format_date(PREPARED, "long"))
        + "\n"
        + _(TESTED).format(tags=", ".join(AXE_TAGS))
    )


ui.run_page(main)
