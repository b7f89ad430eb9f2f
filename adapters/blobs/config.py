"""The configured blob store (``PETITION_BLOB_STORE``): the folder, an S3 bucket, or a plug-in."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from adapters.blobs.folder import FolderBlobs
from adapters.blobs.port import BlobStore
from adapters.settings import Settings


def build_blob_store(settings: Settings, cipher: Any) -> BlobStore:
    """``folder`` (default): encrypted files under ``PETITION_BLOB_DIR``; ``s3``: encrypted
    objects in ``PETITION_BLOB_S3_BUCKET`` (docs/operations.md); ``module:factory``:
    ``factory(settings, cipher)`` returns an object with the port's methods."""
    if settings.blob_store == "folder":
        return FolderBlobs(settings.blob_folder, cipher)
    if settings.blob_store == "s3":
        from adapters.blobs.s3 import S3Blobs, connect

        assert settings.blob_s3_bucket is not None  # Settings refuses s3 without it
        client = connect(endpoint_url=settings.blob_s3_endpoint,
                         region=settings.blob_s3_region,
                         access_key_id=settings.blob_s3_access_key_id,
                         secret_access_key=settings.blob_s3_secret_access_key,
                         timeout=settings.store_timeout)
        return S3Blobs(client, settings.blob_s3_bucket, cipher, prefix=settings.blob_s3_prefix,
                       max_bytes=settings.attachment_max_bytes)
    module, _, name = settings.blob_store.partition(":")
    store: BlobStore = getattr(import_module(module), name)(settings, cipher)
    return store
