"""The lecture's text and the walkthrough's numbers, step by step (no Streamlit)."""
