"""The CLI's services: the composition root built from the environment once per process."""

from __future__ import annotations

from functools import cache

from adapters.logging import configure_logging
from adapters.wiring import Root


@cache
def root() -> Root:
    """Built on the first command that needs it (``--help`` builds nothing); logging is set
    up from the same settings."""
    built = Root.from_environment()
    configure_logging(built.settings.log_format)
    return built
