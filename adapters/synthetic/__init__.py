"""Synthetic petitions: one generator (``citizens.py``), two drivers (``demo.py``, ``simulation.py``)."""
