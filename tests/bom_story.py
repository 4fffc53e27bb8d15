"""A small story for the AI-BOM tests: one model version with much recorded, one with little.

crawl (licence "mixed") ─▶ corpus:v1 ─dedupe▶ corpus:v2 ─┬▶ slice train ─────┐ TRAIN
vendor (CC-BY-4.0) ─▶ labels:v1 ───────────────────────┼─────────────────────┤ TRAIN   run base-train ─▶ base:1
                                                       ├▶ slice validation ─┤ VALIDATION
                                                       └▶ slice test ───────┘ TEST
forum (MIT OR Apache-2.0; excluded at EXCLUDED_AT) ─▶ forum:v1 ─ TRAIN ─┐
tickets (no licence) ─▶ tickets:v1 (no digest, no uri) ─ VALIDATION ───┴▶ run ft ─▶ assistant:1 (fine-tuned from base:1)
bare:1: a model version registered with its artifact only
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from conftest import GraphQL
from helpers import data

CREATED = datetime(2026, 1, 10, tzinfo=UTC)
EXCLUDED_AT = datetime(2026, 4, 1, tzinfo=UTC)
AS_OF = datetime(2026, 5, 1, tzinfo=UTC)  # after everything, the exclusion included
BEFORE_EXCLUSION = datetime(2026, 3, 15, tzinfo=UTC)

RICH = "modelVersion:assistant:1"
BASE = "modelVersion:base:1"
BARE = "modelVersion:bare:1"


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


IMAGE = digest("training-image")
PACKAGES = ["torch==2.5.1", "numpy==2.1.3", "Some_Pkg==1.0"]
SOURCES: dict[str, dict[str, Any]] = {
    "crawl": {
        "kind": "crawl",
        "uri": "https://crawl.example/2026",
        "owner": "crawler-team",
        "license": "mixed",
    },
    "vendor": {
        "kind": "vendor",
        "uri": "s3://vendor/labels",
        "owner": "partnerships",
        "license": "CC-BY-4.0",
    },
    "forum": {"kind": "crawl", "uri": "https://forum.example.com", "license": "MIT OR Apache-2.0"},
    "tickets": {"kind": "database"},
}


def _send(send: GraphQL, query: str, **variables: Any) -> dict[str, Any]:
    return data(send(query, variables))


def load_bom_story(send: GraphQL) -> None:
    for name, fields in SOURCES.items():
        _send(
            send,
            "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { source { id } } }",
            i={"name": name, **fields},
        )
    for name in ("corpus", "labels", "forum", "tickets"):
        _send(
            send,
            "mutation($i: RegisterDatasetInput!) { registerDataset(input: $i) { dataset { id } } }",
            i={"name": name, "owner": "data-platform", "description": f"the {name} data"},
        )
    version = "mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) { datasetVersion { id } } }"
    created = CREATED.isoformat()
    for spec in (
        {"dataset": "corpus", "version": "v1", "sourceIds": ["source:crawl"], "uri": "s3://lake/corpus/v1"},
        {
            "dataset": "corpus",
            "version": "v2",
            "derivedFrom": [{"fromId": "datasetVersion:corpus:v1", "transform": "dedupe"}],
            "uri": "s3://lake/corpus/v2",
        },
        {"dataset": "labels", "version": "v1", "sourceIds": ["source:vendor"], "uri": "s3://lake/labels/v1"},
        {"dataset": "forum", "version": "v1", "sourceIds": ["source:forum"], "uri": "s3://lake/forum/v1"},
    ):
        _send(
            send,
            version,
            i={**spec, "digest": digest(spec["dataset"] + spec["version"]), "createdAt": created},
        )
    _send(
        send,
        version,
        i={"dataset": "tickets", "version": "v1", "sourceIds": ["source:tickets"], "createdAt": created},
    )
    for name, predicate in (
        ("train", "split = 'train'"),
        ("validation", "split = 'val'"),
        ("test", "split = 'test'"),
    ):
        _send(
            send,
            "mutation($i: RegisterSliceInput!) { registerSlice(input: $i) { slice { id } } }",
            i={
                "datasetVersionId": "datasetVersion:corpus:v2",
                "name": name,
                "predicate": predicate,
                "digest": digest(f"corpus-v2-{name}"),
                "createdAt": created,
            },
        )
    run = "mutation($i: RegisterRunInput!) { registerRun(input: $i) { run { id } } }"
    _send(
        send,
        run,
        i={
            "key": "base-train",
            "kind": "TRAIN",
            "status": "FINISHED",
            "startedAt": "2026-01-20T09:00:00Z",
            "endedAt": "2026-01-20T15:00:00Z",
            "params": [{"key": "lr", "value": "0.001"}, {"key": "epochs", "value": "3"}],
            "metrics": [{"key": "loss", "value": 0.42}],
            "code": {"repo": "git@example.com:ml/base.git", "commit": "a1b2c3d", "entrypoint": "train.py"},
            "environment": {
                "imageDigest": IMAGE,
                "python": "3.11.9",
                "framework": "torch",
                "frameworkVersion": "2.5.1",
                "packages": PACKAGES,
            },
            "inputs": [
                {"id": "slice:corpus:v2:train", "role": "TRAIN"},
                {"id": "datasetVersion:labels:v1", "role": "TRAIN"},
                {"id": "slice:corpus:v2:validation", "role": "VALIDATION"},
                {"id": "slice:corpus:v2:test", "role": "TEST"},
            ],
        },
    )
    _send(
        send,
        run,
        i={
            "key": "ft",
            "kind": "FINETUNE",
            "status": "FINISHED",
            "startedAt": "2026-02-01T09:00:00Z",
            "endedAt": "2026-02-01T12:00:00Z",
            "params": [{"key": "lr", "value": "1e-5"}],
            "environment": {
                "python": "3.11.9",
                "framework": "torch",
                "frameworkVersion": "2.5.1",
                "packages": ["torch==2.5.1"],
            },
            "inputs": [
                {"id": "datasetVersion:forum:v1", "role": "TRAIN"},
                {"id": "datasetVersion:tickets:v1", "role": "VALIDATION"},
            ],
        },
    )
    for name, owner in (("base", "ml-platform"), ("assistant", "support-ml"), ("bare", None)):
        _send(
            send,
            "mutation($i: RegisterModelInput!) { registerModel(input: $i) { model { id } } }",
            i={"name": name, "owner": owner, "description": f"the {name} model"},
        )
    model_version = (
        "mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { modelVersion { id } } }"
    )
    for spec in (
        {
            "model": "base",
            "artifactUri": "s3://models/base/1",
            "trainedBy": "run:base-train",
            "metrics": [{"key": "f1", "value": 0.9}],
        },
        {
            "model": "assistant",
            "artifactUri": "s3://models/assistant/1",
            "trainedBy": "run:ft",
            "fineTunedFrom": BASE,
            "metrics": [{"key": "bleu", "value": 31.5}],
        },
        {"model": "bare", "artifactUri": "s3://models/bare/1"},
    ):
        _send(send, model_version, i={**spec, "framework": "torch", "createdAt": "2026-02-02T09:00:00Z"})
    _send(
        send,
        "mutation($i: ExcludeSourceInput!) { excludeSource(input: $i) { created } }",
        i={"sourceId": "source:forum", "reason": "terms changed", "at": EXCLUDED_AT.isoformat()},
    )
