"""The blob store's port: bytes in, their SHA-256 out; the same bytes are kept once.

Content addressing makes a repeated upload (the same photo filed twice, or a duplicate
petition) cost nothing and lets an event name a file by a hash that also proves it unchanged.
Two implementations: ``folder.FolderBlobs`` (embedded) and ``s3.S3Blobs`` (an S3-compatible
bucket); ``tests/integration/test_blob_stores.py`` runs one contract against both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol


class BlobDamaged(Exception):
    """The stored bytes no longer hash to their name (or no key opens them)."""


class BlobUnavailable(Exception):
    """The blob store does not answer (bucket away or missing, disk full …): the request is
    answered 503 with ``blob_store_unavailable``; the message names no credential."""


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Stores ``data`` unless already there (then only marks it as written now, so a
        sweep never takes a blob a new draft has just handed in); returns its SHA-256."""
        ...

    def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256`` (None: none; BlobDamaged: altered)."""
        ...

    def entries(self) -> Iterator[tuple[str, datetime]]:
        """Every stored blob's SHA-256 with when it was last written (UTC)."""
        ...

    def delete_if_older(self, sha256: str, cutoff: datetime) -> bool:
        """Deletes the blob if it was last written before ``cutoff`` (looked at again just
        before deleting); True when deleted."""
        ...


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Sealer(Protocol):
    """The at-rest cipher both stores seal blobs with (the events' keyring)."""

    def encrypt(self, plaintext: bytes) -> bytes: ...

    def decrypt(self, ciphertext: bytes) -> bytes: ...


def unseal(cipher: Sealer, sealed: bytes, sha256: str) -> bytes:
    """A stored blob's bytes, proved to be the ones named: damage and substitution are
    ``BlobDamaged`` whichever store held them."""
    try:
        data = cipher.decrypt(sealed)
    except ValueError as error:
        raise BlobDamaged(f"blob {sha256[:12]}…: {error}") from None
    if sha256_of(data) != sha256:
        raise BlobDamaged(f"blob {sha256[:12]}… does not hash to its name")
    return data
