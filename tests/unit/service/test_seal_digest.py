"""A seal's ledger digest, worked out a column at a time, is the one the audit recomputes row by row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from provgraph.domain import facts
from provgraph.service.sealing import batch_digest
from provgraph.store.cold import SCHEMA
from provgraph.store.compaction import cold_inference

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_the_column_digest_equals_the_audits_row_by_row_digest() -> None:
    rows = [
        {  # a whole second (isoformat writes no fraction), nothing optional
            "id": "inference:a", "at": AT, "model_version_id": "modelVersion:m:1", "deployment_id": None,
            "input_digest": None, "output_digest": None, "latency_ms": None,
        },
        {  # a fraction, every field, a latency that prints with an exponent
            "id": "inference:b", "at": AT + timedelta(microseconds=120), "model_version_id": "modelVersion:m:2",
            "deployment_id": "deployment:e:3", "input_digest": "sha256:" + "ab" * 32,
            "output_digest": 'quote " and \\ backslash', "latency_ms": 1e-05,
        },
        {  # text JSON escapes as \\u sequences, a round latency
            "id": "inference:c", "at": AT - timedelta(days=200, microseconds=1), "model_version_id": "modelVersion:m:1",
            "deployment_id": "deployment:e:1", "input_digest": "café ✓", "output_digest": "x", "latency_ms": 100.0,
        },
    ]  # fmt: skip
    recorded = AT + timedelta(hours=1, microseconds=7)
    table = pa.Table.from_pylist(
        [r | {"recorded_at": recorded, "recorded_by": "writer-1", "recorded_in": "seal:s"} for r in rows],
        schema=SCHEMA.as_arrow(),
    )
    expected = facts.inferences_logged("seal:s", [cold_inference(r) for r in table.to_pylist()])
    assert batch_digest(table) == expected.content["digest"]
    assert batch_digest(table.slice(0, 2)) != expected.content["digest"]
