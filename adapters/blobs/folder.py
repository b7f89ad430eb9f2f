"""Blobs in a private folder: ``<root>/ab/abcdef…`` named by SHA-256, encrypted at rest.

Attachments are often photos of papers that name people, so they get the protection of the
events: the folder is 0700, each file 0600, and the bytes are sealed with the events' cipher
(AES-GCM with the key id in front, so rotated keys still open old blobs). A file is written
under a temporary name and renamed into place, so a crash never leaves half a blob under a
real name; a second writer of the same bytes finds it there and writes nothing but the
file's time (so ``petition blobs sweep`` sees it as new). A failing disk is ``BlobUnavailable``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from adapters.blobs.port import BlobUnavailable, Sealer, sha256_of, unseal

SHA256 = re.compile(r"[0-9a-f]{64}")


class FolderBlobs:
    def __init__(self, root: Path, cipher: Sealer):
        self.root, self.cipher = root, cipher

    def put(self, data: bytes) -> str:
        try:
            return self._put(data)
        except OSError as error:
            raise BlobUnavailable(f"blob folder: {error.strerror or error}") from None

    def _put(self, data: bytes) -> str:
        digest = sha256_of(data)
        path = self._path(digest)
        try:
            os.utime(path)  # stored once: only marked as written now
            return digest
        except FileNotFoundError:
            pass
        _private_dirs(self.root, path.parent)
        temporary = path.with_name(f".{digest}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(self.cipher.encrypt(data))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return digest

    def get(self, sha256: str) -> bytes | None:
        if not SHA256.fullmatch(sha256):
            return None
        try:
            sealed = self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise BlobUnavailable(f"blob folder: {error.strerror or error}") from None
        return unseal(self.cipher, sealed, sha256)

    def entries(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if SHA256.fullmatch(path.name):
                    try:
                        yield path.name, _modified(path)
                    except FileNotFoundError:
                        continue  # deleted meanwhile

    def delete_if_older(self, sha256: str, cutoff: datetime) -> bool:
        path = self._path(sha256)
        try:
            if not SHA256.fullmatch(sha256) or _modified(path) >= cutoff:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256


def _private_dirs(root: Path, leaf: Path) -> None:
    for folder in (root, leaf):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)
