"""Renderers of the session brief: the chart (matplotlib, Agg) and the Word document (python-docx)."""
