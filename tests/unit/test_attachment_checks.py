"""What an upload is by its first bytes, its cleaned name, the limits, and their settings."""

from __future__ import annotations

import pytest

from adapters.blobs.sniff import media_type
from adapters.blobs.uploads import Limits, Upload, UploadRefused, check, safe_name
from adapters.settings import InvalidSetting, Settings
from tests.sample_files import jpeg_header, pdf, png, webp, windows_exe


@pytest.mark.parametrize(("data", "kind"), [
    (jpeg_header(), "image/jpeg"), (png(), "image/png"), (webp(), "image/webp"),
    (pdf(), "application/pdf"), (windows_exe(), None), (b"GIF89a" + b"\x00" * 20, None),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 12, None),  # a PNG signature without its IHDR chunk
    (b"<html><script>", None), (b"", None),
])
def test_types_by_content(data: bytes, kind: str | None) -> None:
    assert media_type(data[:16]) == kind


def test_names_lose_paths_and_control_characters() -> None:
    assert safe_name("C:\\Users\\张三\\身份证.jpg") == "身份证.jpg"
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("a\x00b\u202ec.pdf") == "abc.pdf"
    assert safe_name("") == "attachment" and len(safe_name("x" * 400)) == 255


def test_limits_name_the_first_problem() -> None:
    limits = Limits(max_bytes=100, max_count=2)
    assert [kind for _, kind in check([Upload("a.png", png())], Limits(10_000, 2))] == [
        "image/png"]
    for uploads, reason in (([Upload("a", pdf())] * 3, "attachment_count"),
                            ([Upload("big.pdf", pdf() + b" " * 100)], "attachment_size"),
                            ([Upload("x.jpg", windows_exe()[:50])], "attachment_type"),
                            ([Upload("e.pdf", b"")], "attachment_empty")):
        with pytest.raises(UploadRefused) as refused:
            check(uploads, limits)
        assert refused.value.reason == reason


def test_attachment_settings() -> None:
    default = Settings.from_env({})
    assert (default.attachment_max_bytes, default.attachment_max_count) == (5 << 20, 5)
    assert default.blob_store == "folder" and default.blob_folder == default.data_dir / "blobs"
    assert default.filing_form_bytes > 5 * (5 << 20)
    off = Settings.from_env({"PETITION_ATTACHMENT_MAX_COUNT": "0", "PETITION_BLOB_DIR": "/b"})
    assert off.attachment_max_count == 0 and str(off.blob_folder) == "/b"
    assert Settings.from_env({"PETITION_BLOB_STORE": "my.s3:bucket"}).blob_store == "my.s3:bucket"
    for bad in ({"PETITION_BLOB_STORE": "s3"}, {"PETITION_ATTACHMENT_MAX_BYTES": "0"},
                {"PETITION_ATTACHMENT_MAX_COUNT": "-1"}):
        with pytest.raises(InvalidSetting):
            Settings.from_env(bad)
