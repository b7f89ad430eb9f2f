"""The shape every ``petition … load FILE`` command shares: read, record, say what was loaded.

The file is read and validated before the store is opened, so a bad file touches nothing and
fails as one line (``adapters/cli/errors.py``); what it holds is recorded as one event under
the file's name (``source``), never its path (a path can name a person's home directory).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from adapters.cli.case_commands import open_app
from adapters.cli.output import console
from workflows.application import PetitionApplication

T = TypeVar("T")
RESTART = "restart `petition serve` processes to use them"


def load_file(file: Path, read: Callable[[Path], T],
              record: Callable[[PetitionApplication, T, str], Any],
              said: Callable[[T], str]) -> T:
    """Reads ``file``, records its content with ``source=file.name`` and prints
    ``said(content)`` followed by where it came from."""
    content = read(file)
    record(open_app(), content, file.name)
    console.print(f"{said(content)} from {file.name}")
    return content
