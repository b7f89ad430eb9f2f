"""The PostgreSQL server's CPU during a figure, split by whom it worked for (figure 2).

When the database runs on the same cores as the clients, its CPU per event belongs in the
machine's ceiling. The server's processes are the postmaster's children, read with psutil
before and after the measured run:

* *client backends*: the backends of the measured client processes' connections (a backend's
  title names its client's port, ``127.0.0.1(43994)``; the clients' sockets say which ports
  are theirs). A backend that exits during the run took CPU that cannot be read: it is counted
  as unmeasured (``exited``); one that starts during the run counts from zero;
* *background*: the server's own processes (WAL writer, checkpointer, autovacuum, …); on a
  shared machine they also work for others;
* *other backends*: everybody else's connections, reported but not counted.

Only a server on this machine (and in this process namespace) can be read this way; for any
other ``find`` returns None and the figure falls back to the clients' own ceiling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil
import psycopg

_CLIENT_PORT = re.compile(r"\((\d+)\)")


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds of each server process, by pid, and which of them serve the clients."""

    cpu: dict[int, float]
    clients: frozenset[int]
    others: frozenset[int]


@dataclass
class Used:
    """Server CPU seconds between two snapshots."""

    client_backends: float = 0.0
    background: float = 0.0
    other_backends: float = 0.0
    backends: int = 0  # client backends measured
    started: int = 0  # of which started during the run
    exited: int = 0  # client backends gone by the end: their CPU is unmeasured
    pids: set[int] = field(default_factory=set)

    @property
    def counted(self) -> float:
        """The database's CPU for the clients: their backends and the server's own work."""
        return self.client_backends + self.background


class ServerCpu:
    """Reads the CPU of a local PostgreSQL server's processes (see the module)."""

    def __init__(self, postmaster: psutil.Process, port: int):
        self.postmaster, self.port = postmaster, port

    @classmethod
    def find(cls, url: str) -> ServerCpu | None:
        """The server behind ``url`` if its processes can be read here, else None."""
        port = urlsplit(url).port or 5432
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                row = conn.execute("SELECT pg_backend_pid(), inet_client_port()").fetchone()
                assert row is not None
                backend = psutil.Process(row[0])
                if row[1] is None or f"({row[1]})" not in " ".join(backend.cmdline()):
                    return None  # a pid of another namespace, or a Unix socket
                postmaster = backend.parent()
                if postmaster is None:
                    return None
                postmaster.children()  # readable?
                return cls(postmaster, port)
        except (psutil.Error, psycopg.Error, OSError):
            return None

    def snapshot(self, client_pids: list[int]) -> Snapshot:
        ports = self._client_ports(client_pids)
        cpu: dict[int, float] = {}
        clients, others = set(), set()
        for child in self.postmaster.children():
            try:
                title = " ".join(child.cmdline())
                cpu[child.pid] = _cpu_seconds(child)
            except psutil.Error:
                continue  # exited meanwhile
            found = _CLIENT_PORT.search(title)
            if found and int(found.group(1)) in ports:
                clients.add(child.pid)
            elif found or "[local]" in title:
                others.add(child.pid)
        return Snapshot(cpu, frozenset(clients), frozenset(others))

    def _client_ports(self, pids: list[int]) -> set[int]:
        ports = set()
        for pid in pids:
            try:
                connections = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            ports |= {c.laddr.port for c in connections if c.raddr and c.raddr.port == self.port}
        return ports


def _cpu_seconds(process: psutil.Process) -> float:
    """On-CPU time in nanoseconds from the scheduler where Linux keeps it (a backend's share of
    a short run is a few clock ticks, the resolution of ``cpu_times``), else ``cpu_times``."""
    try:
        with open(f"/proc/{process.pid}/schedstat") as stats:
            return int(stats.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        times = process.cpu_times()
        return float(times.user + times.system)


def used(before: Snapshot, after: Snapshot) -> Used:
    """What the server's processes spent between the snapshots (see the module)."""
    out = Used()
    clients = before.clients | after.clients
    for pid, cpu in after.cpu.items():
        spent = cpu - before.cpu.get(pid, 0.0)
        if pid in clients:
            out.client_backends += spent
            out.backends += 1
            out.started += pid not in before.cpu
            out.pids.add(pid)
        elif pid in after.others or pid in before.others:
            out.other_backends += spent
        else:
            out.background += spent
    out.exited = sum(1 for pid in before.clients if pid not in after.cpu)
    return out
