"""Charla's domain: one small module per concept. `app.py` only routes to these."""
