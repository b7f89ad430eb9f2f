"""Query codes (查询码): the petitioner's private key to follow their case.

A code is 60 random bits in Crockford base32 (``XXXX-XXXX-XXXX``: no I, L, O or U, so it
survives being read out on the phone). Only an HMAC-SHA256 of the code under a server key is
stored, so a leaked database does not let anyone enumerate codes offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
# An ASCII code (every code typed from what we print) normalised by one C call: the ASCII
# characters that are not letters or digits dropped, the look-alikes read as digits.
_ASCII_NORMAL = str.maketrans(
    {"O": "0", "I": "1", "L": "1",
     **dict.fromkeys((chr(i) for i in range(128) if not chr(i).isalnum()), None)})
LENGTH = 12
_BLOCK = 64  # SHA-256's block size: HMAC's pads
_IPAD, _OPAD = bytes(b ^ 0x36 for b in range(256)), bytes(b ^ 0x5C for b in range(256))
_PAIRS = [ALPHABET[bits & 31] + ALPHABET[bits >> 5] for bits in range(1024)]
"""Two letters for each ten bits, the lower five bits first."""


class QueryCodes:
    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the query-code key must be at least 16 bytes")
        self._key = key
        # HMAC-SHA256 (RFC 2104) from the two keyed SHA-256 states, copied per message: the
        # same digests as ``hmac.digest`` (pinned by tests/unit/test_query_codes.py), without
        # OpenSSL looking the digest up and keying a new context on every call, which costs
        # many times the hashing right after a commit (figure 1: three per lifecycle).
        block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
        block = block.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def _hmac(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    @staticmethod
    def new() -> str:
        """60 bits from one call to the system's generator (twelve ``secrets.choice`` calls
        cost ~10 µs each): each 5-bit group picks one of the 32 letters, uniformly."""
        return _spelled(secrets.randbits(5 * LENGTH))

    def derive(self, scope: str, key: str) -> str:
        """A code determined by a caller's idempotency key and the server key: a retried
        registration shows the same code again although the code is never stored."""
        digest = self._hmac(f"derive\x00{scope}\x00{key}".encode())
        return _spelled(int.from_bytes(digest[:8], "big"))

    def mac(self, scope: str, text: str) -> str:
        """A full keyed hash of ``text`` as written (no normalising), for secrets other than
        codes that must be looked up but never stored (the citizen pages' session ids)."""
        return self._hmac(f"mac\x00{scope}\x00{text}".encode()).hex()

    @staticmethod
    def normalise(code: str) -> str:
        """Upper case, separators dropped, look-alike letters read as digits."""
        if code.isascii():
            return code.upper().translate(_ASCII_NORMAL)
        return "".join(ch for ch in code.upper() if ch.isalnum()).translate(_READ_AS)

    def hash(self, code: str) -> str:
        return self._hmac(self.normalise(code).encode()).hex()

    def matches(self, code: str, stored_hash: str) -> bool:
        """Constant-time comparison of a presented code with a stored hash."""
        return hmac.compare_digest(self.hash(code), stored_hash)


def _spelled(number: int) -> str:
    """The low 60 bits of ``number`` as ``XXXX-XXXX-XXXX``: the i-th letter spells bits
    5i…5i+4, lowest first; looked up ten bits (two letters) at a time."""
    p = _PAIRS
    return (f"{p[number & 1023]}{p[number >> 10 & 1023]}-{p[number >> 20 & 1023]}"
            f"{p[number >> 30 & 1023]}-{p[number >> 40 & 1023]}{p[number >> 50 & 1023]}")
