"""What others can see: for the signer's own team, exactly the figures the privacy gate releases
to their manager and HR (same gate functions, same rules), and what it withholds and why.

The gate's answers are cached per viewer, team and week range (seconds per rerun at 1,000 teams),
keyed also by the team's stored response and comment counts, so a new answer in the team, the
viewer's own included, shows at once; changes elsewhere (a larger unit's figures) within the TTL.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import func
from sqlmodel import Session, select

from analytics.gate import released_comments, team_figures
from analytics.objectives import team_actions
from app import ui
from models.access import load_viewer
from models.base import iso_week
from models.db import read_session
from models.org import Unit
from models.pulse import TeamWeekResponses
from surveys.submit import composition_for, organisation_of

WEEKS_SHOWN = 12
CACHE_SECONDS = 300
CACHE_ENTRIES = 500


def _construct_names(composition) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {construct.id: construct.name for construct, _ in composition.scored_constructs}


def _figures_table(series: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The gate's rows in words: a released mean with its interval, or why it is not shown."""
    rows = []
    for row in series.itertuples(index=False):
        released = not bool(row.suppressed) and pd.notna(row.mean)
        rows.append(
            {
                "Week": row.week,
                "Measure": names.get(row.construct, row.construct),
                "Average": round(float(row.mean), 1) if released else None,
                "95% range": f"{row.ci_low:.1f} to {row.ci_high:.1f}"
                if released and pd.notna(row.ci_low) and pd.notna(row.ci_high)
                else "",
                "Answers behind it": str(row.n) if released else "",
                "Shown as": row.basis if released else f"Not shown: {row.reason or 'too few answers'}",
            }
        )
    return pd.DataFrame(rows)


def _team_data_version(
    session: Session, team_id: int, start_week: str, end_week: str
) -> tuple[int, int]:
    """Responses and comments stored for the team in the range (one look-up in the maintained
    counts): any new answer in the team changes it, and with it the cache key."""
    row = session.exec(
        select(
            func.coalesce(func.sum(TeamWeekResponses.n), 0),
            func.coalesce(func.sum(TeamWeekResponses.comments), 0),
        )  # type: ignore[call-overload]
        .where(TeamWeekResponses.team_id == team_id)
        .where(TeamWeekResponses.week >= start_week, TeamWeekResponses.week <= end_week)
    ).one()
    return int(row[0]), int(row[1])


@st.cache_data(ttl=CACHE_SECONDS, max_entries=CACHE_ENTRIES, show_spinner=False)
def _released_to_others(
    database_url: str,
    email: str,
    team_id: int,
    start_week: str,
    end_week: str,
    constructs: tuple[str, ...],
    data_version: tuple[int, int],
) -> dict[str, Any]:
    """What the gate releases about the team, computed for this viewer (access checked by the gate
    for the viewer loaded from ``email``). ``database_url`` and ``data_version`` only key the cache."""
    del database_url, data_version
    rules = ui.settings().privacy_rules()
    with read_session(ui.engine()) as session:
        viewer = load_viewer(session, email)
        if viewer is None or viewer.team_id != team_id:
            raise PermissionError("The signed-in person is no longer in this team.")
        figures = team_figures(
            session=session,
            viewer=viewer,
            rules=rules,
            team_id=team_id,
            start_week=start_week,
            end_week=end_week,
            constructs=list(constructs),
        )
        return {
            "series": figures.series,
            "rates": figures.rates,
            "mix": figures.mix,
            "comments": released_comments(
                session=session,
                viewer=viewer,
                rules=rules,
                unit_id=team_id,
                start_week=start_week,
                end_week=end_week,
            ),
        }


def main() -> None:
    st.title("What others can see")
    viewer = ui.require_viewer()
    if viewer.team_id is None:
        st.info("You are not in a team, so nothing about a team of yours is shown to anyone.")
        return
    rules = ui.settings().privacy_rules()
    today = date.today()
    end_week = iso_week(today)
    start_week = iso_week(today - timedelta(weeks=WEEKS_SHOWN - 1))
    with read_session(ui.engine()) as session:
        team = session.get(Unit, viewer.team_id)
        composition = composition_for(
            session, organisation_id=organisation_of(session, viewer.team_id), week=end_week
        )
        names = _construct_names(composition)
        actions = team_actions(session=session, viewer=viewer, team_id=viewer.team_id)
        data_version = _team_data_version(session, viewer.team_id, start_week, end_week)
    released_figures = _released_to_others(
        ui.settings().database_url,
        viewer.email,
        viewer.team_id,
        start_week,
        end_week,
        tuple(sorted(names)),
        data_version,
    )
    series, rates, mix = released_figures["series"], released_figures["rates"], released_figures["mix"]
    comments = released_figures["comments"]
    st.text(f"Team: {team.name if team else viewer.team_id}")  # plain text: names are data, not markdown
    st.write(
        f"This is what your manager and HR can see about your team for the last {WEEKS_SHOWN} weeks "
        f"({start_week} to {end_week}). It comes from the same privacy gate they use: a figure is only "
        f"shown when at least {rules.min_group_size} people's answers are behind it. A small team's "
        f"figures are combined over up to {rules.pooling_weeks} weeks, or shown for a larger unit. "
        "Counts under 10 are shown as a range. Nobody can see individual answers."
    )
    table = _figures_table(series, names)
    released = int(table["Average"].notna().sum()) if not table.empty else 0
    st.metric("Figures shown to your manager and HR", f"{released} of {len(table)}")
    st.subheader("Wellbeing and work measures")
    st.dataframe(table, hide_index=True)
    st.subheader("Response rate")
    if rates.empty:
        st.write("No response rate is shown.")
    else:
        rate_rows = pd.DataFrame(
            {"Week": rates["week"], "Response rate": rates["rate_label"], "Shown as": rates["basis"]}
        )
        st.dataframe(rate_rows, hide_index=True)
    st.subheader("Where people worked (whole period)")
    if mix.empty or mix["suppressed"].astype(bool).all():
        reason = (
            mix["reason"].dropna().iloc[0] if not mix.empty and mix["reason"].notna().any() else None
        )
        st.write(f"No work-pattern mix is shown ({reason or 'too few answers'}).")
    else:
        shown = mix[~mix["suppressed"].astype(bool)]
        st.dataframe(
            pd.DataFrame(
                {
                    "Work pattern": shown["work_pattern"],
                    "Share of answers": [f"{share:.0%}" for share in shown["share"]],
                    "Answers": shown["n"].astype(str),
                    "Shown as": shown["basis"],
                }
            ),
            hide_index=True,
        )
    st.subheader("You said, we did")
    if actions:
        st.write("What your team's manager has recorded doing in response to the pulse or to outcomes:")
        st.dataframe(
            pd.DataFrame(
                {
                    "When": [action.taken_on for action in actions],
                    "What was done": [action.title for action in actions],
                    "Details": [action.description for action in actions],
                    "In response to": [action.trigger for action in actions],
                    "Status": [action.status.replace("_", " ") for action in actions],
                }
            ),
            hide_index=True,
        )
    else:
        st.write("Your manager has not recorded any actions for your team yet.")
    st.subheader("Comments")
    if comments.released:
        st.write(
            f"These comments ({comments.responses} answers behind them) are visible, no week or name:"
        )
        st.dataframe(pd.DataFrame({"Comment": comments.comments}), hide_index=True)
    else:
        st.write(
            f"No comments are shown: fewer than {rules.min_comment_group_size} answers lie behind them "
            f"({comments.reason or 'too few answers'})."
        )


main()
