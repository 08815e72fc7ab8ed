"""Streamlit pieces shared between pages."""
