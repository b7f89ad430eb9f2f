"""The two blob stores behind one fixture, so a test of the contract (or of the sweep) runs
against the folder and against an S3 bucket on a real S3 protocol server alike."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import Environment

from adapters.blobs.folder import FolderBlobs
from adapters.blobs.s3 import S3Blobs
from adapters.cipher import KeyringCipher
from tests.s3_server import S3Server, backdate

MAX_BYTES = 256 * 1024


def cipher() -> KeyringCipher:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return KeyringCipher(Environment(env={"CIPHER_KEY": key}))


@dataclass
class Blobs:
    """A store, and what a test needs to reach behind its back: age a blob, read or overwrite
    its stored (sealed) bytes."""

    kind: str
    store: Any
    root: Path | None = None
    bucket: str | None = None
    client: Any = None

    def backdate(self, sha256: str, when: datetime) -> None:
        if self.root is not None:
            os.utime(self.root / sha256[:2] / sha256, (when.timestamp(), when.timestamp()))
        else:
            assert self.bucket is not None
            backdate(self.bucket, f"blobs/{sha256[:2]}/{sha256}", when)

    def raw(self, sha256: str) -> bytes:
        if self.root is not None:
            return (self.root / sha256[:2] / sha256).read_bytes()
        body = self.client.get_object(Bucket=self.bucket, Key=f"blobs/{sha256[:2]}/{sha256}")
        return bytes(body["Body"].read())

    def overwrite(self, sha256: str, data: bytes) -> None:
        if self.root is not None:
            (self.root / sha256[:2] / sha256).write_bytes(data)
        else:
            self.client.put_object(Bucket=self.bucket, Key=f"blobs/{sha256[:2]}/{sha256}",
                                   Body=data)


def make_blobs(kind: str, tmp_path: Path, server: S3Server | None,
               sealer: Any = None) -> Blobs:
    sealer = sealer or cipher()
    if kind == "folder":
        root = tmp_path / "blobs"
        return Blobs(kind, FolderBlobs(root, sealer), root=root)
    assert server is not None
    bucket, client = server.new_bucket(), server.client()
    return Blobs(kind, S3Blobs(client, bucket, sealer, prefix="blobs/", max_bytes=MAX_BYTES),
                 bucket=bucket, client=client)


@pytest.fixture(params=["folder", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Blobs:
    server = request.getfixturevalue("s3_server") if request.param == "s3" else None
    return make_blobs(request.param, tmp_path, server)
