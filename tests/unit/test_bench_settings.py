"""The benchmark reads the same PostgreSQL setting as the tests (``PETITION_TEST_POSTGRES``)."""

from __future__ import annotations

from bench.__main__ import parse
from bench.common import DEFAULT_URL, library_postgres_env, postgres_url


def test_the_bench_defaults_to_the_tests_postgres(monkeypatch):
    monkeypatch.setenv("PETITION_TEST_POSTGRES", "postgresql://bench:s3cret@db.example:6543/perf")
    assert postgres_url() == "postgresql://bench:s3cret@db.example:6543/perf"
    assert parse([]).url == "postgresql://bench:s3cret@db.example:6543/perf"
    monkeypatch.delenv("PETITION_TEST_POSTGRES")
    assert postgres_url() == DEFAULT_URL


def test_the_bare_library_baseline_uses_the_runs_database():
    env = library_postgres_env("postgresql://bench:s3cret@db.example:6543/perf", "bench_x")
    assert env["POSTGRES_DBNAME"] == "perf"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.example", "6543")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("bench", "s3cret")
    assert env["POSTGRES_SCHEMA"] == "bench_x"
