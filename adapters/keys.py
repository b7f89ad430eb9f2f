"""Secret keys: from the environment, or generated once and kept in the data directory.

The embedded default must work with nothing configured, so it creates its keys on first use
(files readable by the owner only). PostgreSQL deployments must pass keys in the environment:
a generated key on one container's disk would make the others unable to read the store.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


class MissingKey(RuntimeError):
    pass


def key_from(env_value: str | None, path: Path, *, may_create: bool, name: str) -> str:
    """A base64 32-byte key: the environment's, else the file's, else a new one in the file."""
    if env_value:
        _check(env_value, name)
        return env_value
    if path.exists():
        value = path.read_text().strip()
        _check(value, name)
        return value
    if not may_create:
        raise MissingKey(f"{name} is not set; PostgreSQL deployments must provide it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = base64.b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _check(value: str, name: str) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise MissingKey(f"{name} is not valid base64") from None
    if len(raw) not in (16, 24, 32):
        raise MissingKey(f"{name} must decode to 16, 24 or 32 bytes")
