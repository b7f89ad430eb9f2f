"""Reads the service index's formula (TOML); the packaged ``data/index.toml`` is the default."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from adapters.settings import Settings
from domain.errors import InvalidCommand
from projections.service_index import IndexFormula


def load_index_formula(path: Path | None = None) -> IndexFormula:
    text = path.read_text() if path else (
        resources.files("adapters.data").joinpath("index.toml").read_text(encoding="utf-8"))
    try:
        return IndexFormula.from_mapping(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise InvalidCommand(f"index file {path}: {error}") from None


def configured_formula(settings: Settings) -> IndexFormula:
    """The formula of ``PETITION_INDEX_FILE`` if set, else the packaged one."""
    return load_index_formula(settings.index_file)
