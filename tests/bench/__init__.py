"""`make bench`: the figures of DESIGN.md's "Budgets" table, measured in one run on this machine.

`python -m tests.bench` prints a table, then the figures as one JSON object on the last line, and
exits 1 when a measured figure is over its budget. `docs/benchmarks.md` describes every method.
"""
