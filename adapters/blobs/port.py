"""The blob store's port: bytes in, their SHA-256 out; the same bytes are kept once.

Content addressing makes a repeated upload (the same photo filed twice, or a duplicate
petition) cost nothing and lets an event name a file by a hash that also proves it unchanged.
"""

from __future__ import annotations

import hashlib
from typing import Protocol


class BlobDamaged(Exception):
    """The stored bytes no longer hash to their name (or no key opens them)."""


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Stores ``data`` unless already there; returns its SHA-256 (hex)."""
        ...

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256`` (None: none; BlobDamaged: altered)."""
        ...


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
