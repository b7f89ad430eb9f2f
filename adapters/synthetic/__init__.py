"""Synthetic petitions: one generator (``citizens.py``) and its two drivers, ``demo.py`` (months
of finished lives, for ``petition demo``) and ``simulation.py`` (day by day, for ``simulate``)."""
