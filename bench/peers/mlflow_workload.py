"""The MLflow side of B3. Runs with MLflow's own virtualenv (it never imports provgraph):

    python mlflow_workload.py <tracking-uri> <plan.json>

The plan holds the same runs, dataset inputs and model versions the provgraph side has, the items to log
and the dataset to ask about. Prints one JSON object with the measurements.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from mlflow import MlflowClient
from mlflow.data.http_dataset_source import HTTPDatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.entities import DatasetInput, InputTag, Metric


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "n": len(ordered)}


def main() -> None:
    uri, plan_path = sys.argv[1], sys.argv[2]
    with open(plan_path) as handle:
        plan: dict[str, Any] = json.load(handle)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("provgraph-b3")
    started = time.perf_counter()
    run_ids: dict[str, str] = {}
    for run in plan["runs"]:
        created = client.create_run(experiment, run_name=run["key"], tags={"provgraph.run": run["key"]})
        inputs = []
        for dataset in run["datasets"]:
            meta = MetaDataset(
                source=HTTPDatasetSource(f"https://data.example/{dataset}"), name=dataset, digest=dataset[-8:]
            )
            inputs.append(
                DatasetInput(meta._to_mlflow_entity(), tags=[InputTag("mlflow.data.context", "training")])
            )
        client.log_inputs(created.info.run_id, datasets=inputs)
        client.set_terminated(created.info.run_id)
        run_ids[run["key"]] = created.info.run_id
    models: set[str] = set()
    for version in plan["model_versions"]:
        if version["model"] not in models:
            client.create_registered_model(version["model"])
            models.add(version["model"])
        client.create_model_version(
            version["model"],
            f"s3://bench/{version['model']}/{version['version']}",
            run_id=run_ids[version["run"]],
        )
    setup_seconds = time.perf_counter() - started

    target_run = run_ids[plan["runs"][0]["key"]]
    started = time.perf_counter()
    for step in range(plan["per_item"]):
        client.log_metric(target_run, "latency_ms", 5.0, step=step)
    per_item = plan["per_item"] / (time.perf_counter() - started)
    started = time.perf_counter()
    logged = 0
    while logged < plan["batched"]:
        now = int(time.time() * 1000)
        client.log_batch(
            target_run, metrics=[Metric("latency_ms", 5.0, now, logged + i) for i in range(1000)]
        )
        logged += 1000
    batched = logged / (time.perf_counter() - started)

    dataset = plan["dataset"]

    def models_using_dataset() -> list[list[Any]]:
        runs = client.search_runs([experiment], filter_string=f"dataset.name = '{dataset}'", max_results=5000)
        ids = [r.info.run_id for r in runs]
        found: list[list[Any]] = []
        for chunk in range(0, len(ids), 50):  # keep each filter string short
            quoted = ", ".join(f"'{i}'" for i in ids[chunk : chunk + 50])
            versions = client.search_model_versions(f"run_id IN ({quoted})", max_results=10000)
            found += [[v.name, int(v.version)] for v in versions]
        return sorted(found)

    answer = models_using_dataset()
    samples = []
    for _ in range(plan["iterations"]):
        began = time.perf_counter()
        models_using_dataset()
        samples.append(time.perf_counter() - began)
    print(
        json.dumps(
            {
                "setup_seconds": round(setup_seconds, 1),
                "per_item_per_s": round(per_item, 1),
                "batched_per_s": round(batched, 1),
                "lineage": percentiles(samples),
                "answer": answer,
            }
        )
    )


if __name__ == "__main__":
    main()
