"""How long what members type may be: a commitment's text, a delegation's name."""
from __future__ import annotations

MAX_TEXT = 500  # a commitment's text (the Record modal's limit and the column's width)
MAX_DELEGATION = 120  # a delegation's name
