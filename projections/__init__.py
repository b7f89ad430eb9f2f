"""The read side: one module per read model, each a Projection with a SQLite and a PostgreSQL view.

Views live in the same database as the events and record the tracking position of the last
processed event in the same transaction as their rows, so a crash never skips or repeats an
event (see docs/projections.md).
"""
