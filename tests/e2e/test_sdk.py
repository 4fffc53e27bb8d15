"""The SDK against the real service over HTTP: registration, typed errors, and the inference logger
delivering exactly once across a restart of the service."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from conftest import Tokens
from provgraph.client import (
    AsyncClient,
    Client,
    ConflictError,
    ExclusionDecisionKind,
    InferenceLogger,
    NotFoundError,
    UnavailableError,
)
from provgraph.client._models import Rejection

from .conftest import ApiServer

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def training_script(pg: Client) -> str:
    """What the README shows: a training job registering its data, run and model version."""
    pg.register_source("acme-reviews", "vendor", license="CC-BY-4.0")
    pg.register_dataset("reviews")
    v1 = pg.register_dataset_version("reviews", "v1", sources=["acme-reviews"], row_count=1000, created_at=T0)
    train = pg.register_slice(v1.id, "train", predicate="split = 'train'", created_at=T0)
    pg.register_run(
        "train-001",
        "TRAIN",
        experiment="sentiment",
        inputs=[(train.id, "TRAIN")],
        params={"lr": 3e-5, "epochs": 3},
        code={"repo": "git@example.com:ml/sentiment.git", "commit": "abc123", "entrypoint": "train.py"},
        environment={"python": "3.11", "framework": "torch", "framework_version": "2.5.1"},
        started_at=T0 + timedelta(hours=1),
    )
    pg.complete_run("train-001", metrics={"val_f1": 0.91}, ended_at=T0 + timedelta(hours=2))
    pg.register_model("sentiment")
    version = pg.register_model_version(
        "sentiment",
        "s3://models/sentiment/1",
        trained_by="train-001",
        metrics={"val_f1": 0.91},
        created_at=T0 + timedelta(hours=3),
    )
    return version.id


def test_a_training_script_registers_everything_and_reads_it_back(
    api_server: ApiServer, tokens: Tokens
) -> None:
    with Client(api_server.url, token=tokens.writer) as pg:
        version_id = training_script(pg)
        again = training_script(pg)  # a re-run of the same script is harmless
        assert again == version_id == "modelVersion:sentiment:1"
        pg.transition_stage(version_id, "STAGING", at=T0 + timedelta(days=1))
        promoted = pg.transition_stage(version_id, "PRODUCTION", at=T0 + timedelta(days=2), reason="approved")
        assert promoted.stage == "PRODUCTION"
        pg.register_endpoint("sentiment-api")
        deployment = pg.deploy("sentiment-api", version_id, started_at=T0 + timedelta(days=2))
        pg.log_inference("req-1", endpoint="sentiment-api", at=T0 + timedelta(days=3))

        uses = pg.models_using_source("acme-reviews", stage="PRODUCTION")
        assert [u.model_version.id for u in uses.items] == [version_id]
        assert uses.items[0].deployments[0].id == deployment.id
        trace = pg.trace_inference("req-1")
        assert trace.model_version.id == version_id
        assert [r.key for r in trace.runs] == ["train-001"]
        assert trace.runs[0].params == {"epochs": "3", "lr": "3e-05"}
        assert trace.runs[0].metrics == {"val_f1": 0.91}
        assert [s.name for s in trace.sources] == ["acme-reviews"]
        assert pg.deployed_at("sentiment-api", T0 + timedelta(days=4))[0].model_version_id == version_id
        report = pg.impact_report("acme-reviews")
        assert (report.inferences, report.model_versions[0].stage) == (1, "PRODUCTION")
        lineage = pg.lineage(version_id, types=["Source", "Slice"])
        assert sorted(type(n).__name__ for n in lineage.nodes) == ["Slice", "Source"]
        assert [e.kind for e in pg.history(version_id)] == ["REGISTERED", "STAGE_CHANGED", "STAGE_CHANGED"]


def test_an_exclusion_case_is_decided_and_receipted_through_the_sdk(
    api_server: ApiServer, tokens: Tokens
) -> None:
    with Client(api_server.url, token=tokens.writer) as pg:
        version_id = training_script(pg)
        pg.exclude_source("acme-reviews", "the vendor withdrew the licence")
        case = pg.exclusion_case("source:acme-reviews")
        assert (case.id, case.undecided_ids) == ("exclusionCase:acme-reviews", [version_id])
        assert case.impact["modelVersionIds"] == [version_id]
        assert [c.id for c in pg.exclusion_cases(undecided=True)] == [case.id]
        decided = pg.decide_exclusion(case.id, version_id, ExclusionDecisionKind.RETIRE, "licence gone")
        again = pg.decide_exclusion(case.id, version_id, "retire", "licence gone")  # a retry: no change
        assert decided == again and decided.undecided_ids == []
        assert (decided.decisions[0].decision, decided.decisions[0].actor) == ("RETIRE", "test-writer")
        with pytest.raises(ConflictError):
            pg.decide_exclusion(case.id, version_id, "ACCEPT", "on second thoughts")
        assert pg.exclusion_cases(undecided=True) == []
        receipt = pg.exclusion_receipt(case.id)
        assert receipt["decisions"][0]["reason"] == "licence gone" and receipt["signature"]
        downloaded = pg.export("receipt", case.id)  # the same receipt as a file to keep
        assert downloaded.filename == "exclusionCase-acme-reviews.receipt.json"
        assert json.loads(downloaded.content)["case"]["impactDigest"] == receipt["case"]["impactDigest"]
        prov = pg.export("prov", case.id, format="provn").content.decode()
        assert "pgv:ExclusionDecision" in prov and '"licence gone"' in prov


def test_the_async_client_does_the_same(api_server: ApiServer, tokens: Tokens) -> None:
    async def script() -> list[str]:
        async with AsyncClient(api_server.url, token=tokens.writer) as pg:
            await pg.register_source("s", "bucket")
            await pg.register_dataset("d")
            await pg.register_dataset_version("d", "v1", sources=["s"], created_at=T0)
            await pg.register_model("m")
            await pg.register_model_version("m", "s3://m/1", created_at=T0)
            consumers = await pg.consumers("datasetVersion:d:v1")
            version = await pg.model_version("modelVersion:m:1")
            return [version.id, *[r.run.id for r in consumers.runs]]

    assert asyncio.run(script()) == ["modelVersion:m:1"]


def test_errors_are_typed_with_code_and_field(api_server: ApiServer, tokens: Tokens) -> None:
    with Client(api_server.url, token=tokens.writer) as pg:
        pg.register_source("s", "bucket", license="MIT")
        with pytest.raises(ConflictError) as conflict:
            pg.register_source("s", "bucket", license="GPL")
        assert (conflict.value.code, conflict.value.field) == ("CONFLICT", "license")
        assert conflict.value.request_id
        with pytest.raises(NotFoundError) as missing:
            pg.register_dataset_version("nope", "v1")
        assert missing.value.field == "dataset"


def test_questions_answer_as_known_at_and_the_audit_is_verified(
    api_server: ApiServer, tokens: Tokens
) -> None:
    with Client(api_server.url, token=tokens.writer) as pg:
        first = training_script(pg)
        pg.register_endpoint("sentiment-api")
        time.sleep(0.01)
        told = datetime.now(UTC)  # everything above was recorded before this; everything below after
        time.sleep(0.01)
        second = pg.register_model_version(
            "sentiment", "s3://models/sentiment/2", trained_by="train-001", created_at=T0 + timedelta(days=1)
        ).id
        pg.deploy("sentiment-api", second, started_at=T0 + timedelta(days=2))
        pg.transition_stage(second, "STAGING", reason="eval passed", at=T0 + timedelta(days=2))

        def users(**when: datetime) -> list[str]:
            return [u.model_version.id for u in pg.models_using_source("acme-reviews", **when).items]

        assert users() == [first, second]
        assert users(known_at=told) == [first]
        assert [
            v.model_version.id for v in pg.impact_report("acme-reviews", known_at=told).model_versions
        ] == [first]
        downstream = pg.lineage(
            "source:acme-reviews", direction="downstream", types=["ModelVersion"], known_at=told
        )
        assert [n.id for n in downstream.nodes] == [first]
        assert len(pg.deployed_at("sentiment-api", T0 + timedelta(days=3))) == 1
        assert pg.deployed_at("sentiment-api", T0 + timedelta(days=3), known_at=told) == []

        log = pg.model_history("sentiment")
        assert [(e.seq, e.model_version_id, e.kind) for e in log] == [
            (1, first, "REGISTERED"),
            (2, second, "REGISTERED"),
            (3, second, "STAGE_CHANGED"),
        ]
        assert pg.model_history("model:sentiment", first=1, after=log[0].id) == [log[1]]
        report = pg.verify_audit()
        assert (report.valid, report.breaks, report.sealed) == (True, [], True)
        assert report.events >= 3 and report.entries > 0
        assert pg.verify_audit("model:sentiment").models == 1


def test_an_unreachable_service_is_unavailable_after_retries() -> None:
    with Client("http://127.0.0.1:9/graphql", retries=1, backoff=0.01) as pg, pytest.raises(UnavailableError):
        pg.register_source("s", "bucket")


def _model_with_endpoint(url: str, token: str) -> None:
    with Client(url, token=token) as pg:
        pg.register_model("m")
        version = pg.register_model_version("m", "s3://m/1", created_at=T0)
        pg.register_endpoint("ep")
        pg.deploy("ep", version.id, started_at=T0)


def _inference_count(driver: Driver) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "MATCH (i:Inference) RETURN count(i) AS n, count(DISTINCT i.id) AS distinct", database_="neo4j"
    )
    return records[0]["n"], records[0]["distinct"]


def _wait(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_logger_delivers_exactly_once_across_a_service_restart(
    api_server: ApiServer, clean_graph: Driver, tmp_path: Path, tokens: Tokens
) -> None:
    _model_with_endpoint(api_server.url, tokens.writer)
    logger = InferenceLogger(
        api_server.url, batch_size=50, flush_interval=0.05, spool_dir=tmp_path / "spool",
        retries=1, backoff=0.05, spool_retry_interval=0.2, token=tokens.writer,
    )  # fmt: skip
    at = T0 + timedelta(days=1)
    keys = [logger.log(endpoint="ep", at=at + timedelta(seconds=n)) for n in range(300)]
    assert logger.flush(30)
    api_server.stop()
    keys += [logger.log(endpoint="ep", at=at + timedelta(seconds=n)) for n in range(300, 600)]
    assert logger.flush(30)
    assert logger.stats.spooled == 300  # the service was down: on disk, not lost
    api_server.start()
    _wait(lambda: logger.stats.spool_files == 0)
    logger.close()
    assert _inference_count(clean_graph) == (600, 600)
    assert logger.stats.sent + logger.stats.duplicates >= 600
    assert (logger.stats.sent, logger.stats.rejected, logger.stats.dropped) == (600, 0, 0)
    records, _, _ = clean_graph.execute_query(
        "MATCH (i:Inference) RETURN collect(i.id) AS ids", database_="neo4j"
    )
    assert sorted(records[0]["ids"]) == sorted(f"inference:{k}" for k in keys)


def test_close_flushes(api_server: ApiServer, clean_graph: Driver, tmp_path: Path, tokens: Tokens) -> None:
    _model_with_endpoint(api_server.url, tokens.writer)
    logger = InferenceLogger(
        api_server.url, batch_size=1000, flush_interval=60, spool_dir=tmp_path / "spool", token=tokens.writer
    )
    for n in range(120):
        logger.log(model_version_id="modelVersion:m:1", at=T0 + timedelta(minutes=n))
    logger.close()
    assert _inference_count(clean_graph) == (120, 120)


def test_rejected_items_are_reported_and_the_rest_land(
    api_server: ApiServer, clean_graph: Driver, tmp_path: Path, tokens: Tokens
) -> None:
    _model_with_endpoint(api_server.url, tokens.writer)
    rejected: list[Rejection] = []
    with InferenceLogger(
        api_server.url,
        spool_dir=tmp_path / "spool",
        on_rejected=lambda r, _: rejected.append(r),
        token=tokens.writer,
    ) as logger:
        good = [logger.log(model_version_id="modelVersion:m:1", at=T0 + timedelta(hours=n)) for n in range(5)]
        unknown = logger.log(model_version_id="modelVersion:m:404", at=T0)
        too_early = logger.log(endpoint="ep", at=T0 - timedelta(days=1))
    assert _inference_count(clean_graph) == (5, 5)
    assert logger.stats.rejected == 2 and logger.stats.sent == 5
    assert sorted((r.key, r.code) for r in rejected) == sorted(
        [(unknown, "NOT_FOUND"), (too_early, "FAILED_PRECONDITION")]
    )
    assert len(good) == 5


def test_the_readme_sdk_example_runs_as_shown(
    api_server: ApiServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tokens: Tokens
) -> None:
    monkeypatch.setenv("PROVGRAPH_URL", api_server.url)
    monkeypatch.setenv("PROVGRAPH_TOKEN", tokens.writer)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## The Python SDK", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(example, {})  # noqa: S102 - our own README (on an empty service; test_sdk_run.py runs it on the demo)
    assert capsys.readouterr().out.strip() == "modelVersion:intent:1"
