"""B5: OpenLineage ingestion, one event per request and in batches, through `/api/v1/lineage`.

Each run of a synthetic job sends START (one input) and COMPLETE (the input and one output, with a
version facet), so every pair records a run, its input version, its output version and two kept events.
The events are built before the clock starts; the figure is events per second end to end (HTTP, validation
against the spec's schemas, the writes and their ledger entries).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.run import Bench

PRODUCER = "https://provgraph.dev/bench"
SCHEMA_URL = "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def _pair(n: int) -> list[dict[str, Any]]:
    run_id = str(uuid.uuid4())
    job = {"namespace": "bench", "name": f"job-{n % 50}"}
    source = {
        "dataSource": {
            "_producer": PRODUCER,
            "_schemaURL": SCHEMA_URL,
            "name": "bench-db",
            "uri": "postgres://bench",
        }
    }
    given = {"namespace": "postgres://bench", "name": f"table_{n % 20}", "facets": source}
    output = {
        "namespace": "s3://bench",
        "name": f"out/{n % 100}",
        "facets": {"version": {"_producer": PRODUCER, "_schemaURL": SCHEMA_URL, "datasetVersion": f"v{n}"}},
    }
    base = {
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    }
    start = T0 + timedelta(seconds=n)
    return [
        {**base, "eventType": "START", "eventTime": start.isoformat(), "run": {"runId": run_id}, "job": job, "inputs": [given]},
        {
            **base, "eventType": "COMPLETE", "eventTime": (start + timedelta(milliseconds=500)).isoformat(),
            "run": {"runId": run_id}, "job": job, "inputs": [given], "outputs": [output],
        },
    ]  # fmt: skip


def ingestion(bench: Bench, pairs: int, batch: int, offset: int) -> dict[str, Any]:
    events = [e for n in range(offset, offset + pairs) for e in _pair(n)]
    url = bench.api.base + "/api/v1/lineage"
    started = time.perf_counter()
    for event in events[: len(events) // 2]:
        response = bench.http.post(url, json=event, headers=bench.headers)
        assert response.status_code == 201, response.text[:300]
    single = (len(events) // 2) / (time.perf_counter() - started)
    rest = events[len(events) // 2 :]
    started = time.perf_counter()
    for at in range(0, len(rest), batch):
        response = bench.http.post(url, json=rest[at : at + batch], headers=bench.headers)
        assert response.status_code == 201 and response.json()["recorded"] == len(rest[at : at + batch]), (
            response.text[:300]
        )
    batched = len(rest) / (time.perf_counter() - started)
    return {
        "events": len(events),
        "batch_size": batch,
        "single_events_per_s": round(single, 1),
        "batched_events_per_s": round(batched, 1),
        "R_batched": round(batched / single, 2),
    }
