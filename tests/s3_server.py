"""A real S3 protocol server for the blob-store tests: moto's standalone server (the same
HTTP API as AWS S3, MinIO or Ceph) on a free loopback port, in a thread of the test process.

The tests reach it only over HTTP with boto3 (``adapters.blobs.s3.connect``), as production
reaches a bucket; only ``backdate`` reaches into the server's memory, to age an object without
waiting for the clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.blobs.s3 import connect
from tests.kafka_broker import free_port

ACCESS_KEY, SECRET_KEY, REGION = "testing-access-key", "testing-secret-key", "us-east-1"


class S3Server:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def client(self) -> Any:
        return connect(endpoint_url=self.endpoint, region=REGION, access_key_id=ACCESS_KEY,
                       secret_access_key=SECRET_KEY, timeout=5.0)

    def new_bucket(self) -> str:
        name = f"blobs-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """The settings a process needs to use ``bucket`` (PETITION_BLOB_STORE=s3)."""
        return {"PETITION_BLOB_STORE": "s3", "PETITION_BLOB_S3_BUCKET": bucket,
                "PETITION_BLOB_S3_ENDPOINT": self.endpoint, "PETITION_BLOB_S3_REGION": REGION,
                "PETITION_BLOB_S3_ACCESS_KEY_ID": ACCESS_KEY,
                "PETITION_BLOB_S3_SECRET_ACCESS_KEY": SECRET_KEY}


def backdate(bucket: str, key: str, when: datetime) -> None:
    """Sets an object's LastModified in the server (S3 itself offers no way to)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    stored = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].buckets[bucket].keys[key]
    stored.last_modified = when.astimezone(UTC).replace(tzinfo=None)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()
