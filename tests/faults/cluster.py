"""A throwaway PostgreSQL cluster on its own port, to stop and start under a running engine.

``initdb`` refuses to run as root, so when the tests run as root the cluster belongs to the
``postgres`` user (``runuser``) in a temporary directory that user owns. Authentication is
``trust`` on loopback only; the cluster is removed when the test ends.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.kafka_broker import free_port


def _bin_dir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return str(Path(found[-1]).parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


class ThrowawayPostgres:
    def __init__(self) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            problem = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
            if os.environ.get("PETITION_REQUIRE_POSTGRES") == "1":
                pytest.fail(problem)
            pytest.skip(problem)
        self.bin = Path(bin_dir)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="petition-faults-pg-"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 60) -> None:
        command = ["runuser", "-u", "postgres", "--", *argv] if self._as_postgres else list(argv)
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.root} -c fsync=off "
                   "-c max_connections=100")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "server.log"), "-w", "-t", "30", "start")

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, as when the server goes away."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.is_running():
            with contextlib.suppress(subprocess.SubprocessError):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


