"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, OSS …): ``PETITION_BLOB_STORE=s3``.

The same contract as the folder (``port.BlobStore``), tested against both on a real S3
protocol server (moto's): the key is ``<prefix><ab>/<sha256>``, so the name proves the bytes;
the bytes are sealed with the events' cipher before they leave the process, so the bucket (and
whoever runs it) holds no readable photo of a petitioner's papers. A put of bytes already there
uploads nothing: the object is copied onto itself with fresh metadata, which renews its
LastModified (what ``petition blobs sweep`` goes by). A get reads the body in chunks and stops
past the size limit, so a replaced or runaway object cannot fill the memory.

Any failure to reach the bucket becomes ``BlobUnavailable`` naming the bucket and the error
code only: never the endpoint's userinfo, never a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from adapters.blobs.port import BlobDamaged, BlobUnavailable, Sealer, sha256_of, unseal

SHA256 = re.compile(r"[0-9a-f]{64}")
CHUNK = 64 * 1024
SEAL_OVERHEAD = 1024  # the cipher's header, key id, nonce and tag, generously
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Blobs:
    def __init__(self, client: Any, bucket: str, cipher: Sealer, *, prefix: str = "",
                 max_bytes: int = 5 << 20):
        self.client, self.bucket, self.cipher = client, bucket, cipher
        self.prefix, self.max_bytes = prefix, max_bytes

    def put(self, data: bytes) -> str:
        if len(data) > self.max_bytes:
            raise ValueError(f"a blob of {len(data)} bytes is over the limit ({self.max_bytes})")
        digest = sha256_of(data)
        key = self._key(digest)
        with self._errors():
            if self._touch(key):
                return digest  # stored once
            self.client.put_object(Bucket=self.bucket, Key=key, Body=self.cipher.encrypt(data),
                                   ContentType="application/octet-stream")
        return digest

    def _touch(self, key: str) -> bool:
        """Renews an existing object's LastModified without uploading it; False if absent."""
        try:
            self.client.copy_object(
                Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE", ContentType="application/octet-stream",
                Metadata={"written": datetime.now(UTC).isoformat()})
        except Exception as error:
            if _code(error) in MISSING:
                return False
            raise
        return True

    def get(self, sha256: str) -> bytes | None:
        if not SHA256.fullmatch(sha256):
            return None
        with self._errors():
            try:
                reply = self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))
            except Exception as error:
                if _code(error) in MISSING:
                    return None
                raise
            sealed = self._read(reply["Body"], sha256)
        return unseal(self.cipher, sealed, sha256)

    def _read(self, body: Any, sha256: str) -> bytes:
        """The object's bytes, read in chunks, refused past the size limit (sealed)."""
        limit, chunks, total = self.max_bytes + SEAL_OVERHEAD, [], 0
        try:
            for chunk in body.iter_chunks(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise BlobDamaged(f"blob {sha256[:12]}… is larger than the size limit")
                chunks.append(chunk)
        finally:
            body.close()
        return b"".join(chunks)

    def entries(self) -> Iterator[tuple[str, datetime]]:
        with self._errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix)
            for listing in pages:
                for item in listing.get("Contents", ()):
                    name = item["Key"][len(self.prefix):].rpartition("/")[2]
                    if SHA256.fullmatch(name) and item["Key"] == self._key(name):
                        yield name, item["LastModified"].astimezone(UTC)

    def delete_if_older(self, sha256: str, cutoff: datetime) -> bool:
        if not SHA256.fullmatch(sha256):
            return False
        key = self._key(sha256)
        with self._errors():  # a listing, not a HEAD: a HEAD's bare 404 hides NoSuchBucket
            listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
            found = [item for item in listing.get("Contents", ()) if item["Key"] == key]
            if not found or found[0]["LastModified"].astimezone(UTC) >= cutoff:
                return False
            self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256[:2]}/{sha256}"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """botocore's errors → BlobUnavailable naming the bucket and the code, nothing else."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            raise BlobUnavailable(f"blob bucket {self.bucket!r}: {_code(error)}") from None
        except BotoCoreError as error:
            raise BlobUnavailable(f"blob bucket {self.bucket!r}: "
                                  f"{type(error).__name__}") from None


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def connect(*, endpoint_url: str | None, region: str, access_key_id: str | None,
            secret_access_key: str | None, timeout: float) -> Any:
    """A boto3 S3 client; without keys, boto3's own chain (instance role, profile) is used."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id=access_key_id,
                                    aws_secret_access_key=secret_access_key,
                                    region_name=region)
    config = Config(connect_timeout=timeout, read_timeout=timeout,
                    retries={"max_attempts": 2, "mode": "standard"},
                    s3={"addressing_style": "path" if endpoint_url else "auto"})
    return session.client("s3", endpoint_url=endpoint_url, config=config)
