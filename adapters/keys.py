"""Secret keys: from the environment, or generated once and kept in the data directory.

The embedded default must work with nothing configured, so it creates its keys on first use
(files readable by the owner only). PostgreSQL deployments must pass keys in the environment:
a generated key on one container's disk would make the others unable to read the store.
A rotated cipher key is kept in the folder's retired file: events it wrote stay readable.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

CIPHER_FILE = "cipher.key"
RETIRED_CIPHER_FILE = "cipher.retired"  # keys that no longer write but still read, one a line
QUERY_CODE_FILE = "query_code.key"


class MissingKey(RuntimeError):
    pass


class KeyMismatch(MissingKey):
    """The configured key does not open what the store holds: refusing beats writing garbage."""


def key_from(env_value: str | None, path: Path, *, may_create: bool, name: str,
             why_not: str | None = None) -> str:
    """A base64 32-byte key: the environment's, else the file's, else a new one in the file.

    ``why_not`` explains a refusal to create (e.g. the store already holds events that some
    other key wrote: a new key would write events that no follower could read)."""
    if env_value:
        _check(env_value, name)
        return env_value
    if path.exists():
        value = path.read_text().strip()
        _check(value, name)
        return value
    if not may_create:
        raise MissingKey(why_not or f"{name} is not set; PostgreSQL deployments must provide it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def read_keys(text: str | None, name: str) -> tuple[str, ...]:
    """Keys given as one string (commas, spaces or new lines between them), each checked."""
    keys = tuple(k for k in (text or "").replace(",", " ").split() if k)
    for key in keys:
        _check(key, name)
    return keys


def retired_keys(folder: Path) -> tuple[str, ...]:
    path = folder / RETIRED_CIPHER_FILE
    return read_keys(path.read_text(), str(path)) if path.exists() else ()


def cipher_keys_in(folder: str | Path) -> list[str]:
    """The current and the retired cipher keys of a key folder (for a running cipher)."""
    folder = Path(folder)
    current = folder / CIPHER_FILE
    keys = [current.read_text().strip()] if current.exists() else []
    return keys + list(retired_keys(folder))


def rotate_key_file(folder: Path) -> tuple[str, str]:
    """Retires the folder's cipher key and writes a new one; returns (old, new).

    The old key is appended to the retired file (and synced) before the new one replaces it,
    so a crash between the two steps loses no key."""
    old = (folder / CIPHER_FILE).read_text().strip()
    _check(old, str(folder / CIPHER_FILE))
    new = new_key()
    _append_private(folder / RETIRED_CIPHER_FILE, old + "\n")
    temporary = folder / (CIPHER_FILE + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / CIPHER_FILE)
    return old, new


def _append_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _check(value: str, name: str) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise MissingKey(f"{name} is not valid base64") from None
    if len(raw) not in (16, 24, 32):
        raise MissingKey(f"{name} must decode to 16, 24 or 32 bytes")
