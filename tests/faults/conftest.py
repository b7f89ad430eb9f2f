"""Fixtures of the fault suite: a PostgreSQL cluster of its own (to stop and start), a TCP proxy
in front of it (to cut connections), and the whole service on top, served by uvicorn.

The suite runs each fault end to end against the real pieces, bounded in time: every wait is
on a condition (a readiness answer, a tracking position), with a deadline.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from adapters.http.app import create_app
from adapters.settings import Settings
from tests.e2e.conftest import LiveServer, Staff
from tests.faults.cluster import ThrowawayPostgres
from tests.faults.proxy import TcpProxy
from tests.kafka_broker import TansuBroker


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres()
    pg.start()
    yield pg
    pg.remove()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A Tansu broker (memory storage) on a free port; ``stop``/``start`` replace it."""
    from tests.integration.conftest import _tansu

    tansu = TansuBroker(_tansu(), tmp_path / "tansu.log")
    tansu.start()
    yield tansu
    tansu.stop()


@pytest.fixture
def proxy(cluster: ThrowawayPostgres) -> Iterator[TcpProxy]:
    tcp = TcpProxy(cluster.port)
    yield tcp
    tcp.close()


def cluster_settings(tmp_path: Path, port: int, **extra: str) -> Settings:
    """The engine on the throwaway cluster (through ``port``: the cluster's or the proxy's)."""
    return Settings.from_env({
        "PETITION_STORE": f"postgresql://postgres@127.0.0.1:{port}/postgres",
        "PETITION_POSTGRES_SCHEMA": "faults",
        "PETITION_DATA_DIR": str(tmp_path / "data"),
        "PETITION_CIPHER_KEY": _key(),
        "PETITION_QUERY_CODE_KEY": _key(),
        "PETITION_STORE_TIMEOUT": "2",
        **extra,
    })


class Service:
    """The service (views, supervision timer, optionally the relay) served on a free port."""

    def __init__(self, settings: Settings, clock: object, *, tick: float = 0.5):
        self.settings = settings
        self.api: FastAPI = create_app(dataclasses.replace(settings, supervision_interval=tick),
                                       clock=clock, run_projections=True)  # type: ignore[arg-type]
        self.server = LiveServer(self.api).start()
        self.staff = Staff(self.api)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.api.state.engine

    def stop(self) -> None:
        self.server.stop()
        self.engine.app.close()
