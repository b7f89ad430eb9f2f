"""Adapters: storage configuration, files, logging and the command line. Depend inward only."""
