"""AES-GCM for events at rest, with a keyring so that a key can be rotated.

Each new ciphertext starts with a marker and the id of the key that wrote it, so a reader with
several keys picks the right one; rows written before rotation existed (no marker) are tried
with every key. Keys that only read (retired ones, or the next one during a rotation) come from
``CIPHER_READ_KEYS``; when keys live in files (``CIPHER_KEY_DIR``), an unknown key id makes the
cipher re-read the folder once, so a running process can read what a rotated process wrote.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

from adapters.keys import cipher_keys_in, read_keys

if TYPE_CHECKING:
    from eventsourcing.utils import Environment

MARKER = b"\xffPK\x01"  # a legacy row starts so 1 time in 2**32: it is then tried as legacy
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16


def key_id(key: str | bytes) -> str:
    """A short public name for a key (an HMAC of a constant: reveals nothing of the key)."""
    raw = base64.b64decode(key) if isinstance(key, str) else key
    return hmac.new(raw, b"petition cipher key id", hashlib.sha256).hexdigest()[:KEY_ID_BYTES * 2]


class KeyringCipher(Cipher):
    """Encrypts with the current key; decrypts with whichever key wrote the ciphertext."""

    def __init__(self, environment: Environment):
        current = environment.get("CIPHER_KEY")
        if not current:
            raise OSError("'CIPHER_KEY' not in env")
        self._current = base64.b64decode(current)
        self._current_id = bytes.fromhex(key_id(self._current))
        self._header = MARKER + self._current_id  # every ciphertext's first bytes (one copy)
        self._keys: dict[bytes, AESGCM] = {}
        self._lock = threading.Lock()
        key_dir = environment.get("CIPHER_KEY_DIR")
        self._reload: Callable[[], Iterable[str]] | None = (
            (lambda: cipher_keys_in(key_dir)) if key_dir else None)
        self._add([current, *read_keys(environment.get("CIPHER_READ_KEYS"), "CIPHER_READ_KEYS")])

    @property
    def current_key_id(self) -> str:
        return self._current_id.hex()

    @property
    def key_ids(self) -> list[str]:
        return [k.hex() for k in self._keys]

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._current_id].encrypt(nonce, plaintext, None)
        # nonce, tag, data after the header: the library's own layout, so legacy rows match
        return b"".join((self._header, nonce, sealed[-TAG_BYTES:], sealed[:-TAG_BYTES]))

    def decrypt(self, ciphertext: bytes) -> bytes:
        ciphertext = bytes(ciphertext)
        wanted = None
        if ciphertext.startswith(MARKER):
            head = len(MARKER)
            wanted = ciphertext[head:head + KEY_ID_BYTES]
            aes = self._keys.get(wanted) or self._reloaded(wanted)
            plain = _open(aes, ciphertext[head + KEY_ID_BYTES:]) if aes else None
            if plain is not None:
                return plain
        plain = self._legacy(ciphertext)
        if plain is not None:
            return plain
        if wanted is not None and wanted not in self._keys:
            raise ValueError(f"Invalid cipher tag: written with key {wanted.hex()}, "
                             "which this process does not have")
        raise ValueError("Invalid cipher tag: no key of this process opens the event")

    def _legacy(self, ciphertext: bytes) -> bytes | None:
        """A row from before key ids: nonce, tag, data under one of the keys."""
        for aes in list(self._keys.values()):
            plain = _open(aes, ciphertext)
            if plain is not None:
                return plain
        return None

    def _reloaded(self, wanted: bytes) -> AESGCM | None:
        if self._reload is None:
            return None
        with self._lock:
            if wanted not in self._keys:
                self._add(self._reload())
        return self._keys.get(wanted)

    def _add(self, keys: Iterable[str]) -> None:
        for key in keys:
            raw = base64.b64decode(key)
            self._keys.setdefault(bytes.fromhex(key_id(raw)), AESGCM(raw))


def _open(aes: AESGCM, body: bytes) -> bytes | None:
    nonce, tag, data = body[:NONCE_BYTES], body[NONCE_BYTES:NONCE_BYTES + TAG_BYTES], \
        body[NONCE_BYTES + TAG_BYTES:]
    if len(nonce) != NONCE_BYTES or len(tag) != TAG_BYTES:
        return None
    try:
        return aes.decrypt(nonce, data + tag, None)
    except InvalidTag:
        return None
