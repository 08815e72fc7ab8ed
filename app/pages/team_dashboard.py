"""Placeholder until its issue lands."""

import streamlit as st

st.title("team_dashboard")
st.info("This page is being built.")
