"""Show a chart with its text alternative: the summary is the chart's accessible name (Vega puts a
chart's ``description`` on the drawing as its aria-label) and its visible caption, and the figures
are a table in an expander, so a screen-reader or keyboard user gets what the chart shows."""

from __future__ import annotations

import altair as alt
import streamlit as st

from app import ui
from app.charts.text import ChartText
from app.i18n import _


def show_chart(chart: alt.TopLevelMixin, text: ChartText, *, key: str | None = None) -> None:
    """Draw ``chart`` named by ``text.summary``, then the summary and the table behind it."""
    st.altair_chart(chart.properties(description=text.summary), width="stretch", key=key)
    st.caption(ui.escape_markdown(text.summary))  # names people typed: shown as typed
    if not text.table.empty:
        with st.expander(_("The figures in this chart as a table")):
            st.dataframe(text.table, hide_index=True, width="stretch")
