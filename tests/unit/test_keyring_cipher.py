"""The keyring cipher: every ciphertext names its key, old keys keep reading, rows from before
key ids stay readable, and a keyring without the writer's key refuses instead of guessing."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.cipher import MARKER, KeyringCipher, key_id
from adapters.keys import CIPHER_FILE, rotate_key_file


def _key(seed: int | None = None) -> str:
    raw = os.urandom(32) if seed is None else bytes([seed]) * 32
    return base64.b64encode(raw).decode()


def _cipher(current: str, *read: str, key_dir: Path | None = None) -> KeyringCipher:
    env = {"CIPHER_KEY": current, "CIPHER_READ_KEYS": ",".join(read)}
    if key_dir is not None:
        env["CIPHER_KEY_DIR"] = str(key_dir)
    return KeyringCipher(Environment(env=env))


keys = st.lists(st.integers(0, 255), min_size=1, max_size=4, unique=True).map(
    lambda seeds: [_key(s) for s in seeds])


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(max_size=2000), ring=keys, writer=st.integers(0, 3))
def test_any_keyring_holding_the_writers_key_reads_what_it_wrote(plaintext, ring, writer):
    writing = ring[writer % len(ring)]
    sealed = _cipher(writing).encrypt(plaintext)
    assert sealed.startswith(MARKER + bytes.fromhex(key_id(writing)))
    assert len(plaintext) < 16 or plaintext not in sealed
    others = [k for k in ring if k != writing]
    for current in ring:  # whichever key writes now, the ring reads every key's events
        assert _cipher(current, *others, writing).decrypt(sealed) == plaintext
    if others:
        with pytest.raises(ValueError, match=key_id(writing)):
            _cipher(others[0], *others[1:]).decrypt(sealed)


@settings(max_examples=30, deadline=None)
@given(plaintext=st.binary(max_size=500))
def test_rows_written_before_key_ids_are_read_with_the_original_key(plaintext):
    original, newer = _key(), _key()
    legacy = AESCipher(Environment(env={"CIPHER_KEY": original})).encrypt(plaintext)
    assert _cipher(original).decrypt(legacy) == plaintext
    assert _cipher(newer, original).decrypt(legacy) == plaintext  # after a rotation
    with pytest.raises(ValueError, match="cipher"):
        _cipher(newer).decrypt(legacy)


def test_a_tampered_ciphertext_is_refused():
    key = _key()
    sealed = bytearray(_cipher(key).encrypt(b"petitioner data"))
    sealed[-1] ^= 1
    with pytest.raises(ValueError, match="cipher"):
        _cipher(key).decrypt(bytes(sealed))


def test_a_running_cipher_reads_a_key_rotated_in_its_folder_after_it_started(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    first = _key()
    (folder / CIPHER_FILE).write_text(first + "\n")
    running = _cipher(first, key_dir=folder)
    old, new = rotate_key_file(folder)
    assert old == first and new != first
    written_after = _cipher(new, old).encrypt(b"after the rotation")
    assert running.decrypt(written_after) == b"after the rotation"
    assert running.decrypt(running.encrypt(b"before")) == b"before"  # still writes with its key
    assert sorted(running.key_ids) == sorted([key_id(old), key_id(new)])


def test_key_ids_name_keys_without_revealing_them():
    key = _key()
    assert len(key_id(key)) == 8 and key_id(key) == key_id(base64.b64decode(key))
    assert key_id(key) not in base64.b64decode(key).hex()
    assert key_id(_key()) != key_id(key)
