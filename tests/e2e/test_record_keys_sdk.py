"""Record keys through the SDK against the real service over HTTP: registering a version's keys, declaring
a key-preserving transform, asking where a record is; the repeat that records nothing, the typed errors;
and, on the wire, that the SDK sends keyed hashes and never a key."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

from conftest import Tokens
from provgraph.client import (
    AsyncClient,
    Certainty,
    Client,
    ConflictError,
    InvalidArgumentError,
    MembershipBasis,
    NotFoundError,
    PermissionDeniedError,
    key_hash,
)
from provgraph.config import Settings
from provgraph.demo import load_demo
from snippets import README, python_blocks

from .conftest import ApiServer

SECRET = b"the-client-keeps-this-secret"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def server(settings: Settings, clean_graph: Driver, tmp_path: Path) -> Iterator[ApiServer]:
    """The service with a records directory of its own (filters and exact sets live there, not in Neo4j)."""
    api = ApiServer(settings, tmp_path, {"PROVGRAPH_RECORDS_DIR": str(tmp_path / "records")})
    api.start()
    try:
        yield api
    finally:
        api.stop()


def build_chain(pg: Client) -> None:
    """people v1 (from crm) → v2 (a dedupe) → slice train → run train-1 → model m v1 → fine-tuned m v2,
    in production and deployed; and v1 → summary (an aggregation: it may lose keys)."""
    pg.register_source("crm", "database")
    pg.register_dataset("people")
    v1 = pg.register_dataset_version("people", "v1", sources=["crm"], created_at=T0)
    v2 = pg.register_dataset_version(
        "people", "v2", derived_from=[(v1.id, "dedupe")], created_at=T0 + timedelta(days=1)
    )
    pg.register_dataset_version(
        "people", "summary", derived_from=[(v1.id, "count by city")], created_at=T0 + timedelta(days=1)
    )
    train = pg.register_slice(v2.id, "train", created_at=T0 + timedelta(days=2))
    pg.register_run("train-1", "TRAIN", inputs=[(train.id, "TRAIN")], started_at=T0 + timedelta(days=3))
    pg.complete_run("train-1", ended_at=T0 + timedelta(days=3, hours=1))
    pg.register_model("m")
    base = pg.register_model_version("m", "s3://m/1", trained_by="train-1", created_at=T0 + timedelta(days=4))
    tuned = pg.register_model_version(
        "m", "s3://m/2", fine_tuned_from=base.id, created_at=T0 + timedelta(days=5)
    )
    pg.transition_stage(tuned.id, "STAGING", at=T0 + timedelta(days=6))
    pg.transition_stage(tuned.id, "PRODUCTION", at=T0 + timedelta(days=7))
    pg.register_endpoint("api")
    pg.deploy("api", tuned.id, started_at=T0 + timedelta(days=7))
    pg.log_inference("req-1", endpoint="api", at=T0 + timedelta(days=8))  # fmt: skip


def people(n: int) -> list[str]:
    return [f"person-{i}@example.com" for i in range(n)]


def test_registered_keys_say_where_a_record_is_and_which_models_learned_from_it(
    server: ApiServer, tokens: Tokens
) -> None:
    with Client(server.url, token=tokens.writer) as pg:
        build_chain(pg)
        registered = pg.register_record_keys("datasetVersion:people:v1", "crm", people(1000), secret=SECRET)
        assert (registered.keys, registered.exact, registered.created) == (1000, True, True)
        assert registered.source_id == "source:crm" and registered.digest.startswith("sha256:")
        declared = pg.declare_key_preserving_transform("datasetVersion:people:v2", "dedupe")
        assert (declared.transform, declared.created) == ("dedupe", True)

        answer = pg.record_provenance("person-17@example.com", secret=SECRET)
        holders = {h.data_id: h for h in answer.holders}
        v1 = holders["datasetVersion:people:v1"]
        assert (v1.certainty, v1.basis, v1.source_id) == (
            Certainty.DEFINITELY,
            MembershipBasis.EXACT_SET,
            "source:crm",
        )
        inherited = holders["slice:people:v2:train"]
        assert (inherited.certainty, inherited.basis) == (Certainty.POSSIBLY, MembershipBasis.INHERITED)
        assert [(s.data_id, s.derived_from) for s in answer.stopped] == [
            ("datasetVersion:people:summary", "datasetVersion:people:v1")
        ]
        assert [r.run_id for r in answer.runs] == ["run:train-1"]
        models = {x.model_version.id: x for x in answer.model_versions}
        assert set(models) == {"modelVersion:m:1", "modelVersion:m:2"}
        assert models["modelVersion:m:2"].stage == "PRODUCTION"
        assert [d.endpoint_id for d in models["modelVersion:m:2"].live_deployments] == ["endpoint:api"]
        assert models["modelVersion:m:1"].live_deployments == [] and answer.inferences == 1

        # By its hash, the same answer; a key nobody registered is held by nothing.
        by_hash = pg.record_provenance(key_hash=key_hash("person-17@example.com", secret=SECRET))
        assert replace(by_hash, as_of=answer.as_of) == answer  # asked a moment later
        assert pg.record_provenance("nobody@example.com", secret=SECRET).holders == []
        # Before the data existed, nothing held it.
        assert (
            pg.record_provenance("person-17@example.com", secret=SECRET, as_of=T0 - timedelta(days=1)).holders
            == []
        )


def test_an_erasure_request_opens_a_case_through_the_sdk(server: ApiServer, tokens: Tokens) -> None:
    with Client(server.url, token=tokens.writer) as pg:
        build_chain(pg)
        pg.register_record_keys("datasetVersion:people:v1", "crm", people(100), secret=SECRET)
        pg.declare_key_preserving_transform("datasetVersion:people:v2", "dedupe")
        hashes = [key_hash("person-3@example.com", secret=SECRET)]
        case = pg.open_erasure_case(hashes, "erasure request #7")
        assert (case.trigger, case.key_hash_count, case.source_id, case.excluded_at) == (
            "ERASURE_REQUEST",
            1,
            None,
            None,
        )
        assert case.id.startswith("erasureCase:") and case.impact_digest.startswith("sha256:")
        assert set(case.undecided_ids) == {"modelVersion:m:1", "modelVersion:m:2"}, case
        assert pg.open_erasure_case(hashes, "erasure request #7") == case  # a repeat: the recorded case
        decided = pg.decide_exclusion(case.id, "modelVersion:m:2", "RETRAIN", "retrain without the record")
        assert decided.undecided_ids == ["modelVersion:m:1"]


def test_a_repeat_records_nothing_and_other_keys_are_a_conflict(
    server: ApiServer, tokens: Tokens, clean_graph: Driver, tmp_path: Path
) -> None:
    def stored() -> tuple[int, list[tuple[str, int]]]:
        nodes = clean_graph.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j").records[0]["n"]
        files = sorted((str(p), p.stat().st_size) for p in (tmp_path / "records").rglob("*") if p.is_file())
        return nodes, files

    with Client(server.url, token=tokens.writer) as pg:
        build_chain(pg)
        first = pg.register_record_keys("datasetVersion:people:v1", "crm", people(200), secret=SECRET)
        before = stored()
        # The same keys in another order, with repeats: the same registration.
        again = pg.register_record_keys(
            "datasetVersion:people:v1", "source:crm", people(200)[::-1] + people(5), secret=SECRET
        )
        assert again.created is False and (again.id, again.digest) == (first.id, first.digest)
        assert stored() == before
        with pytest.raises(ConflictError):
            pg.register_record_keys("datasetVersion:people:v1", "crm", people(201), secret=SECRET)
        # The same keys under another secret are other hashes: a conflict too, not a silent match.
        with pytest.raises(ConflictError):
            pg.register_record_keys("datasetVersion:people:v1", "crm", people(200), secret=SECRET + b"!")
        assert stored() == before

        pg.declare_key_preserving_transform("datasetVersion:people:v2", "dedupe")
        assert pg.declare_key_preserving_transform("datasetVersion:people:v2", "dedupe").created is False
        with pytest.raises(ConflictError):
            pg.declare_key_preserving_transform("datasetVersion:people:v2", "sample 10%")


def test_the_async_client_registers_and_asks_alike(server: ApiServer, tokens: Tokens) -> None:
    with Client(server.url, token=tokens.writer) as pg:
        build_chain(pg)

    async def scenario() -> None:
        async with AsyncClient(server.url, token=tokens.writer) as pg:
            registered = await pg.register_record_keys(
                "datasetVersion:people:v1", "crm", people(150_000), secret=SECRET, false_positive_rate=1e-3
            )
            # Past 100,000 keys only the filter is kept: POSSIBLY, at about the asked-for rate.
            assert registered.exact is False and 0 < registered.false_positive_rate <= 1e-3
            again = await pg.register_record_keys(
                "datasetVersion:people:v1", "crm", people(150_000), secret=SECRET, false_positive_rate=1e-3
            )
            assert again.created is False and again.digest == registered.digest
            answer = await pg.record_provenance("person-149999@example.com", secret=SECRET)
            (holder,) = [h for h in answer.holders if h.data_id == "datasetVersion:people:v1"]
            assert (holder.certainty, holder.basis) == (Certainty.POSSIBLY, MembershipBasis.FILTER)
            assert holder.false_positive_rate == pytest.approx(registered.false_positive_rate)
            declared = await pg.declare_key_preserving_transform("datasetVersion:people:v2", "dedupe")
            assert declared.created is True

    asyncio.run(scenario())


def test_bad_registrations_raise_the_sdk_error_classes(server: ApiServer, tokens: Tokens) -> None:
    with Client(server.url, token=tokens.writer) as pg:
        build_chain(pg)
        with pytest.raises(NotFoundError):
            pg.register_record_keys("datasetVersion:people:v9", "crm", people(3), secret=SECRET)
        with pytest.raises(InvalidArgumentError) as rate:
            pg.register_record_keys(
                "datasetVersion:people:v1", "crm", people(3), secret=SECRET, false_positive_rate=2
            )
        assert rate.value.field == "falsePositiveRate" and rate.value.request_id
        with pytest.raises(InvalidArgumentError):
            pg.register_record_keys("run:train-1", "crm", people(3), secret=SECRET)
        with pytest.raises(InvalidArgumentError):
            pg.register_record_keys("datasetVersion:people:v1", "crm", [], secret=SECRET)
        with pytest.raises(InvalidArgumentError) as malformed:
            pg.record_provenance(key_hash="not-a-hash")
        assert malformed.value.code == "INVALID_ARGUMENT"
    with Client(server.url, token=tokens.reader) as reader, pytest.raises(PermissionDeniedError):
        reader.register_record_keys("datasetVersion:people:v1", "crm", people(3), secret=SECRET)


@dataclass
class Wire:
    """Every request as it leaves the SDK: its URL, its headers and its body."""

    requests: list[tuple[str, bytes, bytes]] = field(default_factory=list)

    def note(self, request: httpx.Request, body: bytes) -> None:
        headers = b"\n".join(k + b": " + v for k, v in request.headers.raw)
        self.requests.append((str(request.url), headers, body))

    def everything(self) -> bytes:
        return b"\n".join(
            url.encode() + b"\n" + headers + b"\n" + body for url, headers, body in self.requests
        )


class Recording(httpx.BaseTransport):
    """The real transport, with a note of each request first (the requests still reach the service)."""

    def __init__(self, wire: Wire) -> None:
        self.wire, self.real = wire, httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.wire.note(request, request.read())  # reads a streamed body once and keeps it for sending
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


class AsyncRecording(httpx.AsyncBaseTransport):
    def __init__(self, wire: Wire) -> None:
        self.wire, self.real = wire, httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.wire.note(request, await request.aread())
        return await self.real.handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


def forms(key: str) -> list[bytes]:
    """The ways a key could show on the wire: its UTF-8, JSON-escaped, percent-encoded."""
    return [
        key.encode(),
        json.dumps(key).strip('"').encode(),
        httpx.URL("http://x/", params={"k": key}).query.split(b"=", 1)[1],
    ]


def test_the_sdk_sends_keyed_hashes_never_a_key(server: ApiServer, tokens: Tokens) -> None:
    with Client(server.url, token=tokens.writer) as pg:
        build_chain(pg)
    keys = [f"wire-person-{i}@example.com" for i in range(300)] + ["zoë.müller@exämple.org", "李雷"]
    later = [f"wire-late-{i}@example.com" for i in range(300)]
    asked = [keys[7], keys[-1], keys[-2], later[3]]
    wire = Wire()

    with (
        httpx.Client(transport=Recording(wire)) as http,
        Client(server.url, token=tokens.writer, http_client=http) as pg,
    ):
        assert pg.register_record_keys("datasetVersion:people:v1", "crm", keys, secret=SECRET).created
        pg.declare_key_preserving_transform("datasetVersion:people:v2", "dedupe")
        for key in asked[:3]:
            answer = pg.record_provenance(key, secret=SECRET)
            assert "datasetVersion:people:v1" in {h.data_id for h in answer.holders}

    async def later_registration() -> None:
        async with (
            httpx.AsyncClient(transport=AsyncRecording(wire)) as http,
            AsyncClient(server.url, token=tokens.writer, http_client=http) as pg,
        ):
            await pg.register_record_keys("datasetVersion:people:summary", "crm", later, secret=SECRET)
            answer = await pg.record_provenance(asked[3], secret=SECRET)
            assert [h.data_id for h in answer.holders] == ["datasetVersion:people:summary"]

    asyncio.run(later_registration())

    sent = wire.everything()
    assert [url.split("?")[0].rsplit("/", 1)[-1] for url, _, _ in wire.requests].count("record-keys") == 2
    for key in keys + later:
        for form in forms(key):
            assert form not in sent, f"{key!r} went on the wire"
    assert SECRET not in sent and SECRET.hex().encode() not in sent
    # What did go: every key's hash (binary in the uploads), and the asked ones' in hex.
    for key in keys + later:
        assert bytes.fromhex(key_hash(key, secret=SECRET)) in sent
    for key in asked:
        assert key_hash(key, secret=SECRET).encode() in sent


def test_the_readme_example_runs_as_written_against_the_demo_twice(
    server: ApiServer, settings: Settings, tokens: Tokens, tmp_path: Path
) -> None:
    asyncio.run(load_demo(settings))  # what `make run` loads, into the test database
    section = README.read_text().split("## Records and erasure", 1)[1].split("\n## ", 1)[0]
    (example,) = python_blocks(section)
    script = tmp_path / "records.py"
    script.write_text(example.code)
    environment = {
        **os.environ,
        "PROVGRAPH_URL": server.url,
        "PROVGRAPH_TOKEN": tokens.writer,
        "PROVGRAPH_RECORD_SECRET": "a-secret-that-stays-on-the-client",
    }
    for _ in range(2):  # the second run registers nothing new and answers the same
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == example.prints
