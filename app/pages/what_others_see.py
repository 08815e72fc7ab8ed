"""What others can see: for the signer's own team, exactly the figures released to their manager
and HR (read from the same store of frozen releases), and what is withheld and why.

Figures appear only for periods that have closed and been released, so nothing on this page moves
while the week is being answered: a figure that grew answer by answer would tell whoever watched it
what each new answer was. Comments likewise appear only with their released month.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analytics.objectives import team_actions
from analytics.privacy import released_comments
from analytics.privacy.rules import COMMENT_PERIOD
from analytics.privacy.views import latest_released_weeks, released_periods, team_figures
from app import ui
from app.components.insight_panel import effect_verdict
from app.i18n import N_, _, format_decimal, format_percent
from models.access import load_viewer
from models.db import read_session
from models.org import Unit
from surveys.submit import composition_for, organisation_of

WEEKS_SHOWN = 12
COMMENT_PERIODS_SHOWN = 3
CACHE_SECONDS = 300
CACHE_ENTRIES = 500
PERIOD_WORDS = (N_("month"), N_("quarter"))  # rules.pooling_period, translated where shown


def _construct_names(composition) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {construct.id: construct.name for construct, _ in composition.scored_constructs}


def _figures_table(series: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The released rows in words: a released mean, or why it is not shown."""
    rows = []
    for row in series.itertuples(index=False):
        released = not bool(row.suppressed) and pd.notna(row.mean)
        rows.append(
            {
                _("Week"): row.week,
                _("Measure"): names.get(row.construct, row.construct),
                _("Average"): float(row.mean) if released else None,
                _("People behind it"): str(row.n) if released else "",
                _("Shown as"): row.basis
                if released
                else _("Not shown: {reason}").format(reason=row.reason or _("too few people")),
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(ttl=CACHE_SECONDS, max_entries=CACHE_ENTRIES, show_spinner=False)
def _released_to_others(
    database_url: str, email: str, team_id: int, constructs: tuple[str, ...], released: tuple[str, ...]
) -> dict[str, Any]:
    """What is released about the team, read for this viewer (access checked by the gate for the
    viewer loaded from ``email``). ``database_url`` and ``released`` (the organisation's released
    periods) only key the cache: a new release is a new entry."""
    del database_url, released
    with read_session(ui.engine()) as session:
        viewer = load_viewer(session, email)
        if viewer is None or viewer.team_id != team_id:
            raise PermissionError("The signed-in person is no longer in this team.")
        weeks = latest_released_weeks(session, unit_id=team_id, count=WEEKS_SHOWN)
        figures = team_figures(
            session=session, viewer=viewer, team_id=team_id, weeks=weeks, constructs=list(constructs)
        )
        organisation = organisation_of(session, team_id)
        months = released_periods(session, organisation_id=organisation, kind=COMMENT_PERIOD)[
            -COMMENT_PERIODS_SHOWN:
        ]
        comments = released_comments(session=session, viewer=viewer, unit_id=team_id, periods=months)
        return {
            "weeks": weeks,
            "series": figures.series,
            "rates": figures.rates,
            "mix": figures.mix,
            "comments": comments,
            "months": months,
        }


def main() -> None:
    st.title(_("What others can see"))
    viewer = ui.require_viewer()
    if viewer.team_id is None:
        st.info(_("You are not in a team, so nothing about a team of yours is shown to anyone."))
        return
    rules = ui.settings().privacy_rules()
    with read_session(ui.engine()) as session:
        team = session.get(Unit, viewer.team_id)
        organisation = organisation_of(session, viewer.team_id)
        released = tuple(released_periods(session, organisation_id=organisation))
        composition = composition_for(session, organisation_id=organisation, week=_latest_week(released))
        names = _construct_names(composition)
        actions = team_actions(session=session, viewer=viewer, team_id=viewer.team_id)
    released_figures = _released_to_others(
        ui.settings().database_url, viewer.email, viewer.team_id, tuple(sorted(names)), released
    )
    series, rates, mix = released_figures["series"], released_figures["rates"], released_figures["mix"]
    comments, weeks = released_figures["comments"], released_figures["weeks"]
    team_name = team.name if team else viewer.team_id
    st.text(_("Team: {team}").format(team=team_name))  # plain text: names are data
    shown = (
        _("the last {count} released weeks ({first} to {last})").format(
            count=len(weeks), first=weeks[0], last=weeks[-1]
        )
        if weeks
        else _("no weeks yet")
    )
    st.write(
        _(
            "This is what your manager and HR can see about your team: {shown}. A week appears only "
            "once it has closed and been released, and never changes after that. A figure is only "
            "shown when at least {k} different people are behind it; a small team's figures are "
            "combined over its {period} (or quarter), or shown for a larger unit. Counts under 10 "
            "are shown as a range. Nobody can see individual answers."
        ).format(shown=shown, k=rules.min_group_size, period=_(rules.pooling_period))
    )
    table = _figures_table(series, names)
    released = int(table[_("Average")].notna().sum()) if not table.empty else 0
    st.metric(
        _("Figures shown to your manager and HR"),
        _("{shown} of {total}").format(shown=format_decimal(released), total=format_decimal(len(table))),
    )
    st.subheader(_("Wellbeing and work measures"))
    st.dataframe(table, hide_index=True)
    st.subheader(_("Response rate"))
    if rates.empty:
        st.write(_("No response rate is shown."))
    else:
        rate_rows = pd.DataFrame(
            {
                _("Week"): rates["week"],
                _("Response rate"): rates["rate_label"],
                _("Shown as"): rates["basis"],
            }
        )
        st.dataframe(rate_rows, hide_index=True)
    st.subheader(_("Where people worked (latest released quarter)"))
    if mix.empty or mix["suppressed"].astype(bool).all():
        st.write(_("No work-pattern mix is shown (too few people)."))
    else:
        released_mix = mix[~mix["suppressed"].astype(bool)]
        st.dataframe(
            pd.DataFrame(
                {
                    _("Work pattern"): released_mix["work_pattern"],
                    _("Share of people"): [
                        format_percent(share) if pd.notna(share) else ""
                        for share in released_mix["share"]
                    ],
                    _("People"): released_mix["n"].astype(str),
                    _("Shown as"): released_mix["basis"],
                }
            ),
            hide_index=True,
        )
    st.subheader(_("You said, we did"))
    if actions:
        st.write(
            _("What your team's manager has recorded doing in response to the pulse or to outcomes:")
        )
        st.dataframe(
            pd.DataFrame(
                {
                    _("When"): [action.taken_on for action in actions],
                    _("What was done"): [action.title for action in actions],
                    _("Details"): [action.description for action in actions],
                    _("In response to"): [action.trigger for action in actions],
                    _("Status"): [action.status.replace("_", " ") for action in actions],
                    _("Effect on wellbeing, compared with similar teams"): [
                        effect_verdict(viewer.email, viewer.team_id, action.id) for action in actions
                    ],
                }
            ),
            hide_index=True,
        )
    else:
        st.write(_("Your manager has not recorded any actions for your team yet."))
    st.subheader(_("Comments"))
    months = released_figures["months"]
    if comments:
        st.write(
            _(
                "These comments from released months ({months}) are visible, in alphabetical "
                "order, with no week or name:"
            ).format(months=", ".join(months))
        )
        st.dataframe(pd.DataFrame({_("Comment"): comments}), hide_index=True)
    else:
        st.write(
            _(
                "No comments are shown: comments appear only with their closed, released month, and "
                "only when at least {k} people answered in it."
            ).format(k=rules.min_comment_group_size)
        )


def _latest_week(released: tuple[str, ...]) -> str:
    """The last released week (the pulse composition in force then names the measures)."""
    weeks = [label for label in released if "-W" in label]
    return max(weeks) if weeks else "2000-W01"


main()
