"""The REST routes, one Chalice blueprint per capability. Each handler parses, calls one function in its
capability's package and shapes the answer; `app.py` registers them all."""
