"""A scripted provenance story with known answers, registered through the public GraphQL API.

    crawl ──▶ corpus:v1 ─▶ v2 ─▶ v3 ─▶ v4 ─▶ v5 ─▶ v6 ─┬▶ slice train ─┐
                                                     └▶ slice test ──┤
    vendor ─▶ labels:v1 ────────────────────────────────────────────┴▶ run base-train ─▶ base:1
    vendor ─▶ labels:v1 ──────────────────────────────────────────────▶ run base-train-2 ─▶ base:2
    forum (later excluded) ─▶ forum:v1 ─▶ run ft ─▶ assistant:1 (fine-tuned from base:1)
    unused (no data)

Registry over time (T1 < T2 < … < T8):
    base:1       STAGING@T1, PRODUCTION@T2 (alias champion), ARCHIVED@T6 (base:2 promoted, archiveOthers)
    assistant:1  STAGING@T3, PRODUCTION@T4
    base:2       STAGING@T5, PRODUCTION@T6 (alias champion moves here)
Deployments:
    scoring: base:1 from T2 to T6; base:2 from T6 to T7 (rolled back); base:1 again from T7
    chat:    assistant:1 from T4
Inferences (resolved from endpoint + time):
    inf-chat@T4+1h on chat → assistant:1; inf-v2@T6+1h on scoring → base:2; inf-rollback@T7+1h → base:1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from helpers import data

GraphQL = Callable[..., dict[str, Any]]


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


T = {
    "T0": at(1, 5),  # data is created
    "T1": at(2, 1),
    "T2": at(3, 1),
    "T3": at(3, 15),
    "T4": at(4, 1),
    "T5": at(5, 1),
    "T6": at(6, 1),
    "T7": at(6, 10),
    "T8": at(7, 1),
}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def between(a: str, b: str) -> str:
    return iso(T[a] + (T[b] - T[a]) / 2)


@dataclass(frozen=True)
class Story:
    corpus_versions: list[str]
    inferences: dict[str, str]
    deployments: dict[str, str]


def _run(send: GraphQL, query: str, **variables: Any) -> dict[str, Any]:
    return data(send(query, variables))


SOURCE = "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { source { id } } }"
DATASET = "mutation($n: String!) { registerDataset(input: {name: $n}) { dataset { id } } }"
VERSION = "mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) { datasetVersion { id } } }"
SLICE = "mutation($i: RegisterSliceInput!) { registerSlice(input: $i) { slice { id } } }"
RUN = "mutation($i: RegisterRunInput!) { registerRun(input: $i) { run { id } } }"
MODEL = "mutation($n: String!) { registerModel(input: {name: $n}) { model { id } } }"
MODEL_VERSION = "mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { modelVersion { id version } } }"
STAGE = "mutation($i: TransitionStageInput!) { transitionStage(input: $i) { events { id } } }"
ALIAS = "mutation($i: SetAliasInput!) { setAlias(input: $i) { events { id } } }"
ENDPOINT = "mutation($i: RegisterEndpointInput!) { registerEndpoint(input: $i) { endpoint { id } } }"
DEPLOY = "mutation($i: DeployInput!) { deploy(input: $i) { deployment { id } } }"
END = "mutation($i: EndDeploymentInput!) { endDeployment(input: $i) { deployment { id } } }"
INFER = "mutation($i: InferenceInput!) { logInference(input: $i) { inference { id modelVersionId } } }"


def load_story(send: GraphQL) -> Story:
    for name, kind in [("crawl", "crawl"), ("vendor", "vendor"), ("forum", "crawl"), ("unused", "bucket")]:
        _run(send, SOURCE, i={"name": name, "kind": kind})
    for name in ("corpus", "labels", "forum"):
        _run(send, DATASET, n=name)

    corpus = []
    for n in range(1, 7):
        spec: dict[str, Any] = {
            "dataset": "corpus",
            "version": f"v{n}",
            "createdAt": iso(T["T0"] + timedelta(hours=n)),
        }
        if n == 1:
            spec["sourceIds"] = ["source:crawl"]
        else:
            spec["derivedFrom"] = [{"fromId": corpus[-1], "transform": f"step {n}"}]
        corpus.append(_run(send, VERSION, i=spec)["registerDatasetVersion"]["datasetVersion"]["id"])
    for name in ("train", "test"):
        _run(
            send,
            SLICE,
            i={"datasetVersionId": corpus[-1], "name": name, "createdAt": iso(T["T0"] + timedelta(days=1))},
        )
    _run(
        send,
        VERSION,
        i={"dataset": "labels", "version": "v1", "createdAt": iso(T["T0"]), "sourceIds": ["source:vendor"]},
    )
    _run(
        send,
        VERSION,
        i={"dataset": "forum", "version": "v1", "createdAt": iso(T["T0"]), "sourceIds": ["source:forum"]},
    )

    env = {"python": "3.11", "framework": "torch", "frameworkVersion": "2.5.1", "packages": ["torch==2.5.1"]}
    _run(
        send,
        RUN,
        i={
            "key": "base-train",
            "kind": "TRAIN",
            "experiment": "base",
            "status": "FINISHED",
            "startedAt": iso(T["T0"] + timedelta(days=2)),
            "endedAt": iso(T["T0"] + timedelta(days=3)),
            "params": [{"key": "lr", "value": "0.001"}, {"key": "epochs", "value": "3"}],
            "metrics": [{"key": "loss", "value": 0.42}],
            "code": {"repo": "git@example.com:ml/base.git", "commit": "a1b2c3", "entrypoint": "train.py"},
            "environment": env,
            "inputs": [
                {"id": "slice:corpus:v6:train", "role": "TRAIN"},
                {"id": "slice:corpus:v6:test", "role": "TEST"},
                {"id": "datasetVersion:labels:v1", "role": "TRAIN"},
            ],
        },
    )
    _run(
        send,
        RUN,
        i={
            "key": "base-train-2",
            "kind": "TRAIN",
            "experiment": "base",
            "startedAt": iso(T["T0"] + timedelta(days=4)),
            "params": [{"key": "lr", "value": "0.0005"}, {"key": "epochs", "value": "3"}],
            "code": {"repo": "git@example.com:ml/base.git", "commit": "d4e5f6", "entrypoint": "train.py"},
            "environment": {**env, "frameworkVersion": "2.6.0", "packages": ["torch==2.6.0"]},
            "inputs": [{"id": "datasetVersion:labels:v1", "role": "TRAIN"}],
        },
    )
    _run(
        send,
        RUN,
        i={
            "key": "ft",
            "kind": "FINETUNE",
            "experiment": "assistant",
            "startedAt": iso(T["T0"] + timedelta(days=5)),
            "inputs": [{"id": "datasetVersion:forum:v1", "role": "TRAIN"}],
        },
    )
    for name in ("base", "assistant"):
        _run(send, MODEL, n=name)
    created = T["T0"] + timedelta(days=6)
    for model, artifact, run, base in [
        ("base", "s3://models/base/1", "run:base-train", None),
        ("base", "s3://models/base/2", "run:base-train-2", None),
        ("assistant", "s3://models/assistant/1", "run:ft", "modelVersion:base:1"),
    ]:
        spec = {
            "model": model,
            "artifactUri": artifact,
            "trainedBy": run,
            "createdAt": iso(created),
            "framework": "torch",
        }
        if base:
            spec["fineTunedFrom"] = base
        _run(send, MODEL_VERSION, i=spec)

    def stage(version: str, to: str, when: str, **extra: Any) -> None:
        _run(send, STAGE, i={"modelVersionId": version, "stage": to, "at": iso(T[when]), **extra})

    stage("modelVersion:base:1", "STAGING", "T1", reason="offline eval passed")
    stage("modelVersion:base:1", "PRODUCTION", "T2", reason="approved by risk")
    _run(
        send,
        ALIAS,
        i={"model": "base", "alias": "champion", "modelVersionId": "modelVersion:base:1", "at": iso(T["T2"])},
    )
    stage("modelVersion:assistant:1", "STAGING", "T3")
    stage("modelVersion:assistant:1", "PRODUCTION", "T4")
    stage("modelVersion:base:2", "STAGING", "T5")
    stage("modelVersion:base:2", "PRODUCTION", "T6", archiveOthers=True, reason="better calibration")
    _run(
        send,
        ALIAS,
        i={"model": "base", "alias": "champion", "modelVersionId": "modelVersion:base:2", "at": iso(T["T6"])},
    )

    _run(send, ENDPOINT, i={"name": "scoring", "environment": "production"})
    _run(send, ENDPOINT, i={"name": "chat", "environment": "production"})

    def deploy(endpoint: str, version: str, when: str) -> str:
        result = _run(
            send, DEPLOY, i={"endpoint": endpoint, "modelVersionId": version, "startedAt": iso(T[when])}
        )
        return str(result["deploy"]["deployment"]["id"])

    deployments = {"scoring-1": deploy("scoring", "modelVersion:base:1", "T2")}
    deployments["chat-1"] = deploy("chat", "modelVersion:assistant:1", "T4")
    _run(
        send,
        END,
        i={"deploymentId": deployments["scoring-1"], "endedAt": iso(T["T6"]), "reason": "rollout v2"},
    )
    deployments["scoring-2"] = deploy("scoring", "modelVersion:base:2", "T6")
    _run(
        send, END, i={"deploymentId": deployments["scoring-2"], "endedAt": iso(T["T7"]), "reason": "rollback"}
    )
    deployments["scoring-3"] = deploy("scoring", "modelVersion:base:1", "T7")

    inferences = {}
    for key, endpoint, when in [
        ("inf-chat", "chat", "T4"),
        ("inf-v2", "scoring", "T6"),
        ("inf-rollback", "scoring", "T7"),
    ]:
        result = _run(
            send, INFER, i={"key": key, "endpoint": endpoint, "at": iso(T[when] + timedelta(hours=1))}
        )
        inferences[key] = result["logInference"]["inference"]["modelVersionId"]
    return Story(corpus_versions=corpus, inferences=inferences, deployments=deployments)
