"""Name-based ids (``uuid.uuid5``) of the index records, made without ``uuid.UUID``'s general
constructor: the same SHA-1 of namespace and name, with the same version and variant bits,
built as one integer (a registration and a first answer each make a few: figure 1). Pinned
against ``uuid.uuid5`` by tests/unit/test_name_ids.py."""

from __future__ import annotations

from hashlib import sha1
from uuid import UUID

_CLEAR = ((1 << 128) - 1) & ~((0xC000 << 48) | (0xF000 << 64))  # variant and version bits
_SET = (0x8000 << 48) | (5 << 76)  # RFC 4122 variant, version 5


class NameIds:
    """``uuid.uuid5(namespace, name)`` for one namespace, whole or by halves."""

    def __init__(self, namespace: UUID):
        self._namespace = sha1(namespace.bytes)  # copied per name: no new OpenSSL context

    def _sha1(self, name: str) -> bytes:
        digest = self._namespace.copy()
        digest.update(name.encode())
        return digest.digest()

    def id(self, name: str) -> UUID:
        return UUID(int=int.from_bytes(self._sha1(name)[:16], "big") & _CLEAR | _SET)

    def high(self, name: str) -> bytes:
        """The id's first eight bytes (its version's nibble is in the seventh)."""
        digest = self._sha1(name)
        return digest[:6] + bytes(((digest[6] & 0x0F) | 0x50,)) + digest[7:8]

    def low(self, name: str) -> bytes:
        """The id's last eight bytes (its variant's bits are in the first of them)."""
        digest = self._sha1(name)
        return bytes(((digest[8] & 0x3F) | 0x80,)) + digest[9:16]
