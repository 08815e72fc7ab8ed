"""Placeholder until its issue lands."""

import streamlit as st

st.title("org_trends")
st.info("This page is being built.")
