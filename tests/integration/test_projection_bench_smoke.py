"""The benchmark runs end to end on a tiny size (the real sizes are run by hand)."""

from __future__ import annotations

from bench.__main__ import main
from tests.conftest import PG_URL, require_postgres


def test_bench_smoke(capsys, tmp_path):
    require_postgres()
    main(["--url", PG_URL, "--smoke", "--only", "3,4", "--sizes", "200,400", "--queries", "5",
          "--events", "20", "--out", str(tmp_path / "bench.json")])
    out = capsys.readouterr().out
    assert "200 open" in out and "400 open" in out and "ratio" in out
