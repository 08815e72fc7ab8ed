"""Placeholder until its issue lands."""

import streamlit as st

st.title("objectives")
st.info("This page is being built.")
