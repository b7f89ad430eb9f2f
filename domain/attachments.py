"""The rules an attachment's record must meet before a case records it.

The content itself (its type by magic bytes, its size, how many) is checked where the bytes
are (adapters/blobs); the domain checks that what it records is well formed: a SHA-256 in
hex, a media type, a positive size, a name, and no file twice in one case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from domain.errors import InvalidCommand
from domain.values import Attachment

SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_NAME = 255
MAX_FILES = 100  # files of one kind (the petitioner's, or staff's) on one case


def check_attachments(attachments: Iterable[Attachment], *, already: Iterable[str] = ()
                      ) -> tuple[Attachment, ...]:
    """The attachments, each well formed and new to the case (InvalidCommand if not)."""
    seen = set(already)
    out = []
    for item in attachments:
        if not SHA256.fullmatch(item.sha256):
            raise InvalidCommand("an attachment's sha256 must be 64 lowercase hex digits")
        if not re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", item.media_type):
            raise InvalidCommand(f"not a media type: {item.media_type!r}")
        if item.size <= 0:
            raise InvalidCommand("an attachment must not be empty")
        name = item.file_name.strip()
        if not name or len(name) > MAX_NAME or "\x00" in name:
            raise InvalidCommand(f"an attachment's name must have 1 to {MAX_NAME} characters")
        if item.sha256 in seen:
            raise InvalidCommand("the same file is attached twice")
        seen.add(item.sha256)
        out.append(Attachment(item.sha256, item.media_type, item.size, name))
    return tuple(out)


def check_one_more(item: Attachment, held: tuple[Attachment, ...]) -> Attachment:
    """``item``, well formed, new to ``held`` and within ``MAX_FILES`` (InvalidCommand if not)."""
    if len(held) >= MAX_FILES:
        raise InvalidCommand(f"a case holds at most {MAX_FILES} such files")
    return check_attachments([item], already=(a.sha256 for a in held))[0]
