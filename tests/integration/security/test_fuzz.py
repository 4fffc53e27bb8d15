"""Schema-driven fuzzing of the running service (real app, real Neo4j): thousands of generated
documents, valid and invalid, with random arguments. No response may be a 5xx, carry a stack trace or
Cypher, or lack an error code. Derandomized, so CI runs the same documents every time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis.strategies as st
from graphql import IntValueNode, StringValueNode
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import Mode, mutations, queries
from starlette.testclient import TestClient

from provgraph.api.schema import schema_sdl

SDL = schema_sdl()
# Timestamps: mostly well-formed (with and without a zone), sometimes junk.
DATETIMES = st.one_of(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)).map(
        lambda d: d.isoformat()
    ),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(lambda d: d.isoformat()),
    st.text(max_size=30),
    st.just((datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=1)).isoformat()),
).map(lambda value: StringValueNode(value=value))
# 64-bit integers: in range, past it, negative (row ids and ranges take them), sometimes as strings.
LONGS = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(lambda n: IntValueNode(value=str(n))),
    st.integers(min_value=0, max_value=2**63 - 1).map(lambda n: StringValueNode(value=str(n))),
    st.text(max_size=12).map(lambda value: StringValueNode(value=value)),
)
SCALARS = {"DateTime": DATETIMES, "Long": LONGS}
DOCUMENTS = st.one_of(
    queries(SDL, custom_scalars=SCALARS),
    mutations(SDL, custom_scalars=SCALARS),
    queries(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    mutations(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
)
LEAKS = (
    "Traceback",
    'File "',
    "neo4j.exceptions",
    "Neo.ClientError",
    "Neo.TransientError",
    "MATCH (",
    "MERGE (",
    "UNWIND $",
)
EXAMPLES = 2000


def check(response: Any) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.text[:500]
    body = response.json()
    for leak in LEAKS:
        assert leak not in response.text, (leak, response.text[:500])
    for failure in body.get("errors") or []:
        assert failure.get("extensions", {}).get("code"), failure
        assert failure["extensions"]["code"] != "INTERNAL", failure


def test_generated_documents_never_break_the_service(client: TestClient, clean_graph: object) -> None:
    seen = {"count": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(document=DOCUMENTS)
    def run(document: str) -> None:
        seen["count"] += 1
        check(client.post("/graphql", json={"query": document}))

    run()
    assert seen["count"] >= EXAMPLES // 2  # generation did not collapse to a handful of documents
