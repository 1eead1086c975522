"""Plotly figure builders: plain data in, plotly.js figure dicts out, no database access."""
