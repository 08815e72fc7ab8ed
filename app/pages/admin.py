"""Placeholder until its issue lands."""

import streamlit as st

st.title("admin")
st.info("This page is being built.")
