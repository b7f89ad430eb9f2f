"""Who leads a role: a PostgreSQL session-level advisory lock, or a file lock beside SQLite.

A role that must run once per store (the supervision timer, the relay, each view's runner)
runs only in the process holding its lock; the others stand by and try again every poll.

PostgreSQL: ``pg_try_advisory_lock`` on a connection of its own, kept open while leading. The
server drops the lock when that session ends — at once when the process dies (the kernel closes
its socket), and within about 11 s when its machine vanishes, since the session asks the server
to probe the client (TCP keepalives 5 s + 3 × 2 s). The session is named after the holder
(``application_name``), so a standby can say who leads. A leader that loses the connection
(server restarted, network gone) must stop the role at once: someone else may hold it now.

SQLite: ``flock`` on ``<data dir>/leader-<role>.lock``, which the kernel drops with the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
from pathlib import Path
from typing import Any, Protocol

KEEPALIVES = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2,
              "tcp_keepalives_count": 3}


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def holds(self) -> bool: ...

    def holder(self) -> str | None: ...

    def release(self) -> None: ...


def holder_name(role: str) -> str:
    """How this process is named to standbys: the role, the machine and the process id."""
    return f"petition {role} {socket.gethostname()} pid {os.getpid()}"


def lock_key(role: str, schema: str | None) -> int:
    """A positive 63-bit key from the role and the schema (distinct from the schema lock)."""
    digest = hashlib.blake2b(f"petition leader {role} {schema or 'public'}".encode(),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class AdvisoryLock:
    def __init__(self, url: str, schema: str | None, role: str, *, connect_timeout: float = 5):
        self.url, self.role, self.key = url, role, lock_key(role, schema)
        self.connect_timeout = max(2, round(connect_timeout))
        self._conn: Any = None
        self._held = False

    def try_acquire(self) -> bool:
        conn = self._connection()
        try:
            self._held = bool(conn.execute("SELECT pg_try_advisory_lock(%s)",
                                           (self.key,)).fetchone()[0])
        except Exception:
            self._drop()
            raise
        return self._held

    def holds(self) -> bool:
        """Still the leader: the lock's session answers (False, and closed, if it does not)."""
        if not self._held or self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - any failure means the lock may be gone
            self._drop()
            return False

    def holder(self) -> str | None:
        """The session holding the lock, as it named itself; None when nobody does."""
        row = self._connection().execute(
            "SELECT a.application_name, a.client_addr::text, a.backend_start "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND (l.classid::bigint << 32 | l.objid::bigint) = %s", (self.key,)).fetchone()
        if row is None:
            return None
        name, address, since = row
        return f"{name or 'unnamed session'} from {address or 'local socket'} since " \
               f"{since.isoformat(timespec='seconds')}"

    def release(self) -> None:
        """Unlocks first (the session's end would too, but the server notices it a moment
        later), then closes the session."""
        if self._held and self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._drop()

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            self._conn = psycopg.connect(
                self.url, autocommit=True, connect_timeout=self.connect_timeout,
                application_name=holder_name(self.role)[:63], keepalives=1,
                keepalives_idle=5, keepalives_interval=2, keepalives_count=3)
            for name, value in KEEPALIVES.items():  # the server probes us too
                self._conn.execute(f"SET {name} = {int(value)}")
        return self._conn

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class FileLock:
    def __init__(self, folder: Path, role: str):
        self.path, self.role = folder / f"leader-{role}.lock", role
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, holder_name(self.role).encode())
        self._fd = fd
        return True

    def holds(self) -> bool:
        return self._fd is not None

    def holder(self) -> str | None:
        if self._fd is not None:
            return holder_name(self.role)
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return self.path.read_text(encoding="utf-8") or "unnamed process"
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None  # nobody holds it
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
