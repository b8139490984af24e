"""The classroom walkthrough's steps as Streamlit views (the numbers: kgviz.classroom)."""
