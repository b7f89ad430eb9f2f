"""Which uploaded files a petition may carry: how many, how large, and what they are.

The type is read from the content (``sniff``), never from the name or the browser's declared
type, so an .exe renamed .jpg is refused. Only files that pass every check are stored, and
each is stored once however often it was sent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from adapters.blobs.port import BlobStore
from adapters.blobs.sniff import media_type
from domain.values import Attachment

MAX_NAME = 255


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes

    def __repr__(self) -> str:  # the name is personal data: never in a traceback
        return f"Upload({len(self.data)} B)"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_count: int


EXPLAINED = {  # the API's sentences for the pages' message keys
    "attachment_count": "too many files",
    "attachment_empty": "the file is empty",
    "attachment_size": "the file is over the size limit (PETITION_ATTACHMENT_MAX_BYTES)",
    "attachment_type": "not a JPEG, PNG, WebP image or PDF file by its content (whatever its "
                       "name or declared type)",
}


class UploadRefused(Exception):
    """``reason`` is the message key shown beside the field; ``name`` the file it is about."""

    def __init__(self, reason: str, name: str | None = None):
        self.reason, self.name = reason, name
        super().__init__(EXPLAINED.get(reason, reason))


def safe_name(raw: str) -> str:
    """The file's own name, without a path, control characters or more than 255 characters."""
    base = re.split(r"[\\/]", raw or "")[-1]
    clean = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return clean[:MAX_NAME] or "attachment"


def check(uploads: list[Upload], limits: Limits) -> list[tuple[Upload, str]]:
    """Each upload with its media type; UploadRefused names the first problem."""
    if len(uploads) > limits.max_count:
        raise UploadRefused("attachment_count")
    accepted = []
    for upload in uploads:
        if not upload.data:
            raise UploadRefused("attachment_empty", upload.name)
        if len(upload.data) > limits.max_bytes:
            raise UploadRefused("attachment_size", upload.name)
        kind = media_type(upload.data[:16])
        if kind is None:
            raise UploadRefused("attachment_type", upload.name)
        accepted.append((upload, kind))
    return accepted


def store(accepted: list[tuple[Upload, str]], blobs: BlobStore) -> tuple[Attachment, ...]:
    """Stores the bytes; the records for the case, one per distinct content."""
    out: dict[str, Attachment] = {}
    for upload, kind in accepted:
        digest = blobs.put(upload.data)
        out.setdefault(digest, Attachment(digest, kind, len(upload.data), upload.name))
    return tuple(out.values())
