"""Several writers registering overlapping entities at once, over real HTTP: no duplicates, no lost
writes, contiguous version numbers, an intact audit chain."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

from neo4j import Driver

from conftest import Tokens
from provgraph.client import Client

from .conftest import ApiServer

WRITERS = 8
T0 = datetime(2026, 2, 1, tzinfo=UTC)


def test_concurrent_writers_never_duplicate(
    api_server: ApiServer, tokens: Tokens, clean_graph: Driver
) -> None:
    with Client(api_server.url, token=tokens.writer) as setup:
        setup.register_dataset("ds")
        setup.register_model("m")
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        rng = random.Random(number)
        steps = (
            [("source", i) for i in range(5)]
            + [("version", i) for i in range(5)]
            + [("model", i) for i in range(6)]
        )
        rng.shuffle(steps)
        try:
            with Client(api_server.url, token=tokens.writer, retries=5) as pg:
                for kind, i in steps:
                    if kind == "source":
                        pg.register_source(f"src-{i}", "bucket", license="MIT")
                    elif kind == "version":
                        pg.register_source(f"src-{i}", "bucket", license="MIT")
                        pg.register_dataset_version(
                            "ds", f"v{i}", sources=[f"src-{i}"], row_count=i, created_at=T0
                        )
                    else:
                        pg.register_model_version("m", f"s3://m/{i}", created_at=T0)
                # Every writer logs the same 20 inferences (a retry storm): each must land once.
                shared = [
                    {
                        "key": f"shared-{k}",
                        "modelVersionId": "modelVersion:m:1",
                        "at": "2026-03-01T00:00:00+00:00",
                    }
                    for k in range(20)
                ]
                pg.log_inferences(shared)
        except BaseException as exc:  # reported below with the thread's number
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures

    def count(cypher: str) -> list[object]:
        records, _, _ = clean_graph.execute_query(cypher, database_="neo4j")
        return list(records[0].values())

    assert count("MATCH (s:Source) RETURN count(s), count(DISTINCT s.id)") == [5, 5]
    assert count("MATCH (v:DatasetVersion) RETURN count(v), count(DISTINCT v.id)") == [5, 5]
    assert count("MATCH (:DatasetVersion)-[r:FROM_SOURCE]->() RETURN count(r)") == [5]
    assert count("MATCH (v:ModelVersion) RETURN count(v), collect(v.version)")[0] == 6
    assert sorted(count("MATCH (v:ModelVersion) RETURN collect(v.version)")[0]) == [1, 2, 3, 4, 5, 6]  # type: ignore[type-var]
    assert count("MATCH (e:RegistryEvent) RETURN count(e), count(DISTINCT e.seq)") == [6, 6]
    assert count("MATCH (i:Inference) RETURN count(i), count(DISTINCT i.id)") == [20, 20]
    assert count("MATCH (:Inference)-[r:PREDICTED_WITH]->() RETURN count(r)") == [20]
    with Client(api_server.url, token=tokens.reader) as reader:
        report = reader.execute("{ verifyAuditChain { valid events } }")["verifyAuditChain"]
    assert report == {"valid": True, "events": 6}
