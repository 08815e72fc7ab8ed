"""Placeholder until its issue lands."""

import streamlit as st

st.title("strain")
st.info("This page is being built.")
