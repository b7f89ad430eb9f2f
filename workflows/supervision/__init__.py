"""Supervision (督办): ``process.py`` issues the ladder's measures when deadlines pass;
``timer.py`` runs it on an interval."""
