"""`petition blobs sweep` in its own process, on the configured blob store (the folder, or an
S3 bucket on a real S3 protocol server): what it counts, what it deletes, what it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from adapters.blobs.folder import FolderBlobs
from adapters.blobs.s3 import S3Blobs
from adapters.settings import Settings
from adapters.wiring import build_application
from domain.values import Attachment
from tests.blob_stores import Blobs
from tests.integration.helpers import register_command
from tests.s3_server import S3Server
from tests.sample_files import png
from tests.subprocess_env import petition_env

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PETITION, "blobs", "sweep", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_sweep_deletes_the_abandoned_file_and_keeps_the_filed_one(
        settings: Settings, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    env = petition_env(settings)
    app = build_application(settings)
    try:
        if kind == "folder":
            blobs = Blobs(kind, FolderBlobs(settings.blob_folder, app.mapper.cipher),
                          root=settings.blob_folder)
        else:
            server: S3Server = request.getfixturevalue("s3_server")
            bucket = server.new_bucket()
            env |= server.env(bucket)
            blobs = Blobs(kind, S3Blobs(server.client(), bucket, app.mapper.cipher,
                                        prefix="blobs/"), bucket=bucket, client=server.client())
        filed, abandoned = blobs.store.put(png(seed=1)), blobs.store.put(png(seed=2))
        app.register(register_command(), attachments=(Attachment(filed, "image/png", 9, "a"),))
    finally:
        app.close()
    for sha in (filed, abandoned):
        blobs.backdate(sha, datetime.now(UTC) - timedelta(days=3))

    dry = run(env, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {"examined": 2, "older": 2, "named_by_events": 1,
                                      "deleted": 1, "dry_run": True}
    done = run(env, "--older-than", "2d")
    assert done.returncode == 0, done.stderr
    assert "2 blobs, 2 older than 2d: 1 named by events, deleted 1" in done.stdout
    assert blobs.store.get(abandoned) is None and blobs.store.get(filed) == png(seed=1)

    short = run(env, "--older-than", "10m")
    assert short.returncode == 2 and short.stderr.startswith("petition: ")
    assert "at least" in short.stderr and short.stderr.count("\n") == 1


@pytest.mark.parametrize("action", ["add-attachment", "attach-document"])
def test_act_refuses_the_commands_that_carry_a_file(settings: Settings, action: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capfd: pytest.CaptureFixture[str]) -> None:
    """Their file fields come from a checked upload (the HTTP route), never from the shell."""
    from adapters.cli.errors import run_guarded
    from adapters.cli.main import app as cli

    for name, value in petition_env(settings).items():
        monkeypatch.setenv(name, value)
    try:
        with pytest.raises(SystemExit) as exited:
            run_guarded(cli, ["act", "00000000-0000-0000-0000-000000000001", action,
                              f"sha256={'a' * 64}", "media_type=image/png", "size=9",
                              "file_name=x.png"])
    finally:
        structlog.reset_defaults()  # run_guarded pointed the logs at the captured stderr
    _, err = capfd.readouterr()
    assert exited.value.code == 2 and err.count("\n") == 1
    assert f"POST /petitions/{{case_id}}/{action}" in err
