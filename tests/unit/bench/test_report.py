"""The benchmark report renders from a result file (the smoke result committed in bench/results)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench import report

RESULTS = Path(__file__).resolve().parents[3] / "bench" / "results"


def test_the_report_names_every_ratio_and_the_machine(tmp_path: Path) -> None:
    newest = sorted(RESULTS.glob("smoke-*.json"))[-1]
    shutil.copy(newest, tmp_path / newest.name)
    target = tmp_path / "benchmarks.md"
    report.write(target, tmp_path)
    text = target.read_text()
    data = json.loads(newest.read_text())
    assert (
        f"R_batch** (bulk API at its best batch size ÷ one request per inference): **{data['b1']['R_batch']}×"
        in text
    )
    assert "R_api_ingest" in text and "R_gql p50" in text
    assert data["environment"]["cpu"] in text
    for query in data["b2"]:
        assert query in text
