"""The ``petition`` command line (typer): thin commands over the application."""
