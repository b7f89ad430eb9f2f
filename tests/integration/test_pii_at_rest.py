"""Personal data is encrypted at rest and query codes are stored only as keyed hashes.

A leaked database file or dump must not reveal who petitioned, nor let anyone open a case.
The tests search the raw stored bytes, and prove the bytes are ciphertext (not an encoding)
by failing to read them with a different key.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
from uuid import UUID, uuid5

import pytest
from eventsourcing.utils import Environment

from adapters.blobs.folder import FolderBlobs
from adapters.blobs.port import BlobDamaged
from adapters.cipher import KeyringCipher
from adapters.keys import KeyMismatch
from adapters.settings import Settings
from adapters.wiring import build_application
from domain.query_code_index import NAMESPACE, QueryCodeIndex
from domain.values import Attachment
from tests.integration.helpers import (
    dump_bytes,
    dump_store,
    id_number,
    register_command,
    register_sample,
)
from tests.sample_files import jpeg_header
from workflows.query_codes import QueryCodes

NAME = "欧阳紫霞Quixotica"
ID_NUMBER = id_number("44030519870623941")
PHONE = "+86 139-7531-8642"
FILE_NAME = "身份证正面Zyxwvutsr.jpg"  # an attachment's name: personal data too
PHOTO = jpeg_header() + "欧阳紫霞 身份证 Quixotica".encode() * 4  # the file's own bytes


def _secrets(code: str) -> dict[str, bytes]:
    return {
        "name": NAME.encode(),
        "name (CJK part)": "欧阳紫霞".encode(),
        "name (latin part)": b"Quixotica",
        "id number": ID_NUMBER.encode(),
        "id number digits": ID_NUMBER[:17].encode(),
        "phone": PHONE.encode(),
        "phone digits": b"13975318642",
        "query code": code.encode(),
        "query code normalised": QueryCodes.normalise(code).encode(),
        "attachment name": FILE_NAME.encode(),
        "attachment name (latin part)": b"Zyxwvutsr",
    }


def _register(app):
    """The sample petition with an attachment (its bytes: see the blob folder's test)."""
    digest = hashlib.sha256(PHOTO).hexdigest()
    return app.register(
        register_command(petitioner={"name": NAME, "id_number": ID_NUMBER, "phone": PHONE}),
        attachments=(Attachment(digest, "image/jpeg", len(PHOTO), FILE_NAME),))


@pytest.fixture
def registered(app):
    return _register(app)


def _stored_id(uuid: UUID, raw: bytes) -> bool:
    """SQLite stores ids as 32 hex digits, PostgreSQL's uuid column prints with dashes."""
    return uuid.hex.encode() in raw or str(uuid).encode() in raw


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_store_contents_hold_no_personal_data_nor_query_code(registered, settings):
    raw = dump_bytes(dump_store(settings))
    assert len(raw) > 200
    leaks = [what for what, needle in _secrets(registered.query_code).items() if needle in raw]
    assert leaks == []


def test_sqlite_file_holds_no_personal_data_after_close(tmp_path, clock):
    """SQLite only: the database file itself (and any -wal/-journal beside it) is searched."""
    settings = Settings.from_env({
        "PETITION_STORE": str(tmp_path / "petitions.db"),
        "PETITION_CIPHER_KEY": _new_key(),
        "PETITION_QUERY_CODE_KEY": _new_key(),
    })
    app = build_application(settings, clock=clock)
    try:
        registration = _register(app)
    finally:
        app.close()
    files = sorted(tmp_path.glob("petitions.db*"))
    raw = b"".join(f.read_bytes() for f in files)
    assert tmp_path / "petitions.db" in files and len(raw) > 4096
    assert b"domain.events:Registered" in raw  # control: clear text would be found
    leaks = [what for what, needle in _secrets(registration.query_code).items() if needle in raw]
    assert leaks == []


def test_the_search_would_find_plain_text(app, settings):
    """Control: what is stored in clear (the event topic) is found by this search."""
    register_sample(app)
    raw = dump_bytes(dump_store(settings))
    assert b"domain.events:Registered" in raw
    assert "文昌路 12 号".encode() not in raw  # the address is inside the encrypted event too


def test_attachment_bytes_are_sealed_in_a_private_folder(app, tmp_path):
    blobs = FolderBlobs(tmp_path / "blobs", app.mapper.cipher)
    digest = blobs.put(PHOTO)
    assert blobs.put(PHOTO) == digest == hashlib.sha256(PHOTO).hexdigest()  # stored once
    files = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [digest]
    raw = files[0].read_bytes()
    assert "欧阳紫霞".encode() not in raw and b"Quixotica" not in raw and PHOTO[:4] not in raw
    assert blobs.get(digest) == PHOTO
    stranger = FolderBlobs(tmp_path / "blobs", KeyringCipher(Environment(
        env={"CIPHER_KEY": _new_key()})))
    with pytest.raises(BlobDamaged):
        stranger.get(digest)
    files[0].write_bytes(app.mapper.cipher.encrypt(b"something else"))
    with pytest.raises(BlobDamaged, match="does not hash"):
        blobs.get(digest)


def test_the_application_decrypts_what_it_stored(registered, app):
    petition = app.get_petition(registered.case_id)
    assert petition.petitioner.name == NAME
    assert petition.petitioner.id_number == ID_NUMBER
    assert petition.petitioner.phone == PHONE
    assert app.events_of(registered.case_id)[0].petitioner.name == NAME
    assert app.events_of(registered.case_id)[1].file_name == FILE_NAME


def test_query_code_hash_is_an_hmac_under_the_server_key(registered, app, settings):
    stored = app.get_petition(registered.case_id).query_code_hash
    normalised = QueryCodes.normalise(registered.query_code).encode()
    key = base64.b64decode(settings.query_code_key)
    assert stored == hmac.new(key, normalised, hashlib.sha256).hexdigest()
    for unkeyed in (normalised, registered.query_code.encode()):
        assert stored != hashlib.sha256(unkeyed).hexdigest()

    # the index id stored in clear derives from the keyed hash, not from anything computable
    # from the code alone, so a dump cannot be searched by trying codes
    raw = dump_bytes(dump_store(settings))
    assert _stored_id(QueryCodeIndex.create_id(stored), raw)
    for unkeyed in (normalised, registered.query_code.encode()):
        assert not _stored_id(uuid5(NAMESPACE, hashlib.sha256(unkeyed).hexdigest()), raw)


def test_another_cipher_key_cannot_read_the_events(registered, app, settings, clock):
    stored = app.recorder.select_events(registered.case_id)[0].state
    app.close()
    stranger = KeyringCipher(Environment(env={"CIPHER_KEY": _new_key()}))
    with pytest.raises(ValueError, match="cipher"):
        stranger.decrypt(stored)
    # and an application given the other key refuses to start rather than write under it
    with pytest.raises(KeyMismatch, match="PETITION_CIPHER_KEY does not open"):
        build_application(dataclasses.replace(settings, cipher_key=_new_key()), clock=clock)

    same_key = build_application(settings, clock=clock)
    try:
        assert same_key.get_petition(registered.case_id).petitioner.name == NAME
    finally:
        same_key.close()


def test_another_query_code_key_cannot_open_the_case(registered, app, settings, clock):
    other = dataclasses.replace(settings, query_code_key=_new_key())
    stranger = QueryCodes(base64.b64decode(other.query_code_key))
    assert stranger.hash(registered.query_code) != app.get_petition(
        registered.case_id).query_code_hash
    # and an application given the other key refuses to start rather than issue codes under it
    with pytest.raises(KeyMismatch, match="PETITION_QUERY_CODE_KEY is not the key"):
        build_application(other, clock=clock)
    assert app.case_id_for_query_code(registered.query_code) == registered.case_id
