"""Placeholder until its issue lands."""

import streamlit as st

st.title("what_others_see")
st.info("This page is being built.")
