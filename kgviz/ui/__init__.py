"""The Streamlit user interface of kgviz (the only package that imports Streamlit).

Figure builders here are pure functions (data → plotly figure or HTML string); page modules draw
them with Streamlit widgets. ``app.py`` only dispatches between pages.
"""
