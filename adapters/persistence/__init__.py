"""Storage beyond the library's defaults: SQLite write transactions, group commit, and the one
module that touches the library's private recorder methods (``library_internals.py``)."""
