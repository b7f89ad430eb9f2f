"""One contract, two blob stores: the folder and an S3 bucket on a real S3 protocol server
(moto's standalone server, spoken to over HTTP by boto3 as a production bucket would be)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.blobs.config import build_blob_store
from adapters.blobs.port import BlobDamaged, BlobStore, BlobUnavailable
from adapters.blobs.s3 import S3Blobs
from adapters.settings import InvalidSetting, Settings
from tests.blob_stores import MAX_BYTES, Blobs, cipher
from tests.s3_server import S3Server
from tests.sample_files import pdf, png

NOW = datetime.now(UTC)


def test_bytes_come_back_as_stored_sealed_at_rest_and_named_by_their_hash(
        blobs: Blobs) -> None:
    photo = png(seed=3)
    sha = blobs.store.put(photo)
    assert sha == hashlib.sha256(photo).hexdigest()
    assert blobs.store.get(sha) == photo
    raw = blobs.raw(sha)
    assert photo[:16] not in raw and raw != photo  # sealed with the events' cipher


def test_the_same_bytes_are_kept_once(blobs: Blobs) -> None:
    photo, letter = png(seed=4), pdf()
    first = blobs.store.put(photo)
    assert blobs.store.put(photo) == first
    blobs.store.put(letter)
    names = sorted(sha for sha, _ in blobs.store.entries())
    assert names == sorted({first, hashlib.sha256(letter).hexdigest()})


def test_a_second_put_renews_the_time_a_sweep_goes_by(blobs: Blobs) -> None:
    sha = blobs.store.put(png(seed=5))
    blobs.backdate(sha, NOW - timedelta(days=30))
    assert dict(blobs.store.entries())[sha] < NOW - timedelta(days=29)
    blobs.store.put(png(seed=5))  # a new draft hands in the same photo
    assert dict(blobs.store.entries())[sha] > NOW - timedelta(minutes=5)
    assert not blobs.store.delete_if_older(sha, NOW - timedelta(days=1))
    assert blobs.store.get(sha) == png(seed=5)


def test_unknown_and_malformed_names_are_none(blobs: Blobs) -> None:
    assert blobs.store.get("0" * 64) is None
    assert blobs.store.get("../../etc/passwd") is None
    assert blobs.store.get("A" * 64) is None
    assert not blobs.store.delete_if_older("0" * 64, NOW)
    assert not blobs.store.delete_if_older("../x", NOW)


def test_altered_bytes_are_refused_never_served(blobs: Blobs) -> None:
    photo = png(seed=6)
    sha = blobs.store.put(photo)
    blobs.overwrite(sha, b"not what was stored")
    with pytest.raises(BlobDamaged):
        blobs.store.get(sha)
    other = blobs.store.put(pdf())
    blobs.overwrite(sha, blobs.raw(other))  # sealed by our key, but other bytes
    with pytest.raises(BlobDamaged):
        blobs.store.get(sha)


def test_only_blobs_older_than_the_cutoff_are_deleted(blobs: Blobs) -> None:
    old, new = blobs.store.put(png(seed=7)), blobs.store.put(png(seed=8))
    blobs.backdate(old, NOW - timedelta(days=3))
    cutoff = NOW - timedelta(days=1)
    written = dict(blobs.store.entries())
    assert written[old] < cutoff <= written[new]
    assert not blobs.store.delete_if_older(new, cutoff)
    assert blobs.store.delete_if_older(old, cutoff)
    assert not blobs.store.delete_if_older(old, cutoff)  # gone already
    assert blobs.store.get(old) is None and blobs.store.get(new) == png(seed=8)
    assert [sha for sha, _ in blobs.store.entries()] == [new]


def test_s3_reads_stop_past_the_size_limit(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    store = S3Blobs(s3_server.client(), bucket, cipher(), prefix="blobs/", max_bytes=MAX_BYTES)
    with pytest.raises(ValueError, match="over the limit"):
        store.put(b"x" * (MAX_BYTES + 1))
    sha = "a" * 64
    s3_server.client().put_object(Bucket=bucket, Key=f"blobs/aa/{sha}",
                                  Body=b"\0" * (MAX_BYTES + 64 * 1024))  # replaced in the bucket
    with pytest.raises(BlobDamaged, match="larger than the size limit"):
        store.get(sha)


@pytest.mark.parametrize("operation", ["put", "get", "entries", "delete"])
def test_a_missing_bucket_or_a_dead_endpoint_is_blob_unavailable(
        s3_server: S3Server, operation: str) -> None:
    dead = Settings.from_env({**s3_server.env("no-such-bucket"),
                              "PETITION_BLOB_S3_ENDPOINT": "http://127.0.0.1:9"})
    for settings in (Settings.from_env(s3_server.env("no-such-bucket")), dead):
        with pytest.raises(BlobUnavailable) as raised:
            _call(build_blob_store(settings, cipher()), operation)
        message = str(raised.value)
        assert "no-such-bucket" in message
        assert "testing-secret-key" not in message and "testing-access-key" not in message


def _call(store: BlobStore, operation: str) -> object:
    if operation == "put":
        return store.put(png())
    if operation == "get":
        return store.get("b" * 64)
    if operation == "entries":
        return list(store.entries())
    return store.delete_if_older("b" * 64, NOW)


def test_settings_build_the_s3_store_and_never_show_its_keys(s3_server: S3Server,
                                                             tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    settings = Settings.from_env({**s3_server.env(bucket), "PETITION_STORE":
                                  str(tmp_path / "p.db")})
    assert settings.blob_s3_bucket == bucket and settings.blob_s3_prefix == "blobs/"
    assert "testing-secret-key" not in repr(settings)
    assert "testing-access-key" not in repr(settings)
    store = build_blob_store(settings, cipher())
    assert isinstance(store, S3Blobs)
    sha = store.put(pdf())
    assert store.get(sha) == pdf()
    with pytest.raises(InvalidSetting, match="PETITION_BLOB_S3_BUCKET"):
        Settings.from_env({"PETITION_BLOB_STORE": "s3"})
