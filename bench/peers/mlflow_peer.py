"""B3: MLflow (pip-installed in its own virtualenv, tracking server on SQLite, one worker) beside provgraph.

MLflow gets the same runs, their dataset inputs (the dataset versions whose slices the run used) and the
same model versions. Both answer "which model versions were trained on dataset D": MLflow with
search_runs → search_model_versions (the most it can answer: depth 1), provgraph with one `lineage` query
walking three hops downstream (slice, run, version). The answers are compared.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from neo4j import RoutingControl

from bench import measure
from bench.servers import ROOT, free_port

if TYPE_CHECKING:
    from bench.run import Bench

VENV = ROOT / "bench" / ".venv-mlflow"
MLFLOW_SPEC = "mlflow>=3,<4"


def ensure_mlflow() -> Path:
    python = VENV / "bin" / "python"
    if not (VENV / "bin" / "mlflow").exists():
        print(f"Installing {MLFLOW_SPEC} into {VENV} (first run only)...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", MLFLOW_SPEC], check=True)
    return python


# What the provgraph graph holds, exported for MLflow: each run with the dataset versions it used (through
# slices), each model version with its training run, ordered as provgraph numbered them.
EXPORT = """
MATCH (r:Run)
OPTIONAL MATCH (r)-[:USED]->(:Slice)-[:SUBSET_OF]->(v:DatasetVersion)
WITH r, collect(DISTINCT v.id) AS datasets ORDER BY r.id
WITH collect({key: r.key, id: r.id, datasets: datasets}) AS runs
MATCH (mv:ModelVersion)-[:GENERATED_BY]->(r:Run)
WITH runs, mv, r ORDER BY mv.modelId, mv.version
RETURN runs, collect({model: split(mv.modelId, ':')[1], version: mv.version, run: r.key}) AS versions
"""

LINEAGE = """query($d: ID!) { lineage(nodeId: $d, direction: DOWNSTREAM, maxDepth: 3, types: ["ModelVersion"], first: 500) {
  totalCount nodes { ... on ModelVersion { id version model { name } } } } }"""


def run_workload(python: Path, plan: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run mlflow_workload.py with `plan` against a fresh MLflow tracking server (SQLite, one worker);
    its JSON answer. Raises RuntimeError saying why when the server or the workload fails."""
    plan_path = work / "mlflow-plan.json"
    plan_path.write_text(json.dumps(plan))
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    quiet = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    server_log = (work / "mlflow-server.log").open("ab")
    server = subprocess.Popen(
        [
            str(VENV / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{work / 'mlflow.db'}",
            "--default-artifact-root",
            str(work / "mlflow-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=server_log,
        stderr=subprocess.STDOUT,
        env=quiet,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(uri + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the MLflow server did not start; see {work / 'mlflow-server.log'}")
            time.sleep(0.5)
        done = subprocess.run(
            [str(python), str(Path(__file__).with_name("mlflow_workload.py")), uri, str(plan_path)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
            env=quiet,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the MLflow workload failed: {done.stderr[-1500:]}")
        answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return answer
    finally:
        server.terminate()
        server.wait(30)
        server_log.close()


def compare(bench: Bench, loop: asyncio.AbstractEventLoop, tier: str, work: Path) -> dict[str, Any]:
    try:
        python = ensure_mlflow()
    except (subprocess.CalledProcessError, OSError) as exc:
        return {"skipped": f"MLflow could not be installed: {exc}"}
    records, _, _ = bench.driver.execute_query(EXPORT, database_="neo4j", routing_=RoutingControl.READ)
    runs, versions = records[0]["runs"], records[0]["versions"]
    usage: dict[str, int] = {}
    for run in runs:
        for dataset in run["datasets"]:
            usage[dataset] = usage.get(dataset, 0) + 1
    dataset = sorted(usage, key=lambda d: (usage[d], d))[len(usage) // 2]  # a dataset of median use
    naive_n, batched_n = (200, 5_000) if tier == "smoke" else (2_000, 20_000)
    iterations = 30 if tier == "smoke" else 200
    plan = {
        "runs": [{"key": r["key"], "datasets": r["datasets"]} for r in runs],
        "model_versions": versions,
        "per_item": naive_n,
        "batched": batched_n,
        "dataset": dataset,
        "iterations": iterations,
    }
    try:
        mlflow = run_workload(python, plan, work)
    except RuntimeError as exc:
        return {"skipped": str(exc)}

    def ours() -> list[list[Any]]:
        body = bench.http.post(
            bench.api.url, json={"query": LINEAGE, "variables": {"d": dataset}}, headers=bench.headers
        ).json()
        return sorted([n["model"]["name"], n["version"]] for n in body["data"]["lineage"]["nodes"])

    answer = ours()
    samples = measure.timed(ours, iterations, warmup=5)
    version_line = subprocess.run(
        [str(python), "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "mlflow_version": version_line.stdout.strip(),
        "setup": f"{len(runs)} runs, {len(versions)} model versions, dataset {dataset} used by {usage[dataset]} runs; "
        f"MLflow setup took {mlflow['setup_seconds']} s",
        "mlflow_per_item_per_s": mlflow["per_item_per_s"],
        "mlflow_batched_per_s": mlflow["batched_per_s"],
        "mlflow_lineage": mlflow["lineage"],
        "ours_lineage": measure.percentiles(samples),
        "answer_size": len(answer),
        "same_answer": "yes"
        if answer == [list(a) for a in mlflow["answer"]]
        else f"no (ours {answer[:5]}…, MLflow {mlflow['answer'][:5]}…)",
        "R_peer_lineage_p50": round(mlflow["lineage"]["p50_ms"] / measure.percentiles(samples)["p50_ms"], 1),
    }
