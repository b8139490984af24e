"""Figure builders: pure functions from data to a plotly figure or an HTML string."""
