"""What a file is, by its first bytes (magic numbers), never by its name or declared type.

Four formats are accepted, so four signatures from their specifications are enough; a general
detection library would add a dependency to answer a question we do not ask (what else a
refused file might be). See docs/dependencies.md.
"""

from __future__ import annotations

SIGNATURES: tuple[tuple[str, str, bytes, int], ...] = (
    # media type, extension, magic bytes, offset
    ("image/jpeg", "jpg", b"\xff\xd8\xff", 0),  # JFIF/Exif: SOI marker, then a marker
    ("image/png", "png", b"\x89PNG\r\n\x1a\n", 0),  # PNG signature (RFC 2083)
    ("application/pdf", "pdf", b"%PDF-", 0),  # ISO 32000 header
)
EXTENSIONS = {media: ext for media, ext, _, _ in SIGNATURES} | {"image/webp": "webp"}


def media_type(head: bytes) -> str | None:
    """The accepted media type whose signature ``head`` starts with, else None."""
    for media, _, magic, offset in SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            if media == "image/png" and head[12:16] != b"IHDR":  # the first chunk, always
                return None
            return media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":  # RIFF container of kind WEBP
        return "image/webp"
    return None
