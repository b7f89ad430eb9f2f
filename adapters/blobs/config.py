"""The configured blob store (``PETITION_BLOB_STORE``): the folder, or another port's adapter."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from adapters.blobs.folder import FolderBlobs
from adapters.blobs.port import BlobStore
from adapters.settings import Settings


def build_blob_store(settings: Settings, cipher: Any) -> BlobStore:
    """``folder`` (default): encrypted files under ``PETITION_BLOB_DIR``; ``module:factory``:
    ``factory(settings, cipher)`` returns an object with ``put`` and ``get`` (an S3-compatible
    bucket, for example: see docs/operations.md)."""
    if settings.blob_store == "folder":
        return FolderBlobs(settings.blob_folder, cipher)
    module, _, name = settings.blob_store.partition(":")
    store: BlobStore = getattr(import_module(module), name)(settings, cipher)
    return store
