"""The strain flag panel for one team (filled in by the strain issue); the team dashboard calls it."""

from __future__ import annotations

import streamlit as st

from models.access import Viewer


def render_team_strain(viewer: Viewer, team_id: int) -> None:
    """Show whether the team is flagged as under strain, and why."""
    del viewer, team_id
    st.caption("Strain detection is not available yet.")
