"""The petition (信访) domain: the case aggregate, its events, units and deadline policy.

Pure Python: imports only the standard library and ``eventsourcing.domain``.
"""
