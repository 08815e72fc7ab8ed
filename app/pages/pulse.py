"""Placeholder until its issue lands."""

import streamlit as st

st.title("pulse")
st.info("This page is being built.")
