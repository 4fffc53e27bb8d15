"""A deterministic synthetic provenance graph (fixed seed), loaded through the service layer.

Shape (sizes per tier below): sources; dataset versions in a DAG of up to 8 levels (level 0 from 1-2
sources chosen with a skew, so some sources feed much more than others; deeper levels derived from 1-3
lower versions); 4 slices per version; runs using 1-5 slices; one model version per run (10% fine-tuned
from an earlier one); 30% promoted to production; deployments on endpoints; inferences.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from provgraph.domain.catalog import DatasetSpec, DatasetVersionSpec, Derivation, SliceSpec, SourceSpec
from provgraph.domain.records import Caller
from provgraph.domain.registry import ModelSpec, ModelVersionSpec, Stage, StageChange
from provgraph.domain.runs import InputRole, RunInput, RunKind, RunSpec, RunStatus
from provgraph.domain.serving import DeploymentSpec, EndpointSpec, InferenceSpec
from provgraph.service.services import Services

SEED = 42
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
ACTOR = Caller("bench")


@dataclass(frozen=True)
class Tier:
    name: str
    sources: int
    versions: int
    slices_per_version: int
    runs: int
    endpoints: int
    inferences: int
    model_every: int = 1  # a model version for every k-th run (the others train nothing that is registered)


TIERS = {
    "smoke": Tier(
        "smoke", sources=10, versions=100, slices_per_version=4, runs=200, endpoints=10, inferences=10_000
    ),
    "standard": Tier(
        "standard",
        sources=50,
        versions=500,
        slices_per_version=4,
        runs=1000,
        endpoints=50,
        inferences=100_000,
    ),
    # 10x standard (the scale curve, bench/scale.py): inferences are added in steps there.
    "large": Tier(
        "large",
        sources=500,
        versions=5000,
        slices_per_version=4,
        runs=10_000,
        endpoints=500,
        inferences=0,
        model_every=5,
    ),
}

CONCURRENCY = 8  # registrations in flight at once while generating (independent ones only)


@dataclass
class Graph:
    """What was generated, for the benchmarks to pick their inputs from."""

    sources: list[str]
    model_versions: list[str]
    production: list[str]
    endpoints: list[str]
    inference_keys: list[str]
    versions_by_level: list[list[str]]
    traffic_from: datetime  # when the deployments' traffic may start


def _at(minutes: float) -> datetime:
    return EPOCH + timedelta(minutes=minutes)


async def generate(services: Services, tier: Tier, progress: Callable[[str], None]) -> Graph:
    rng = random.Random(SEED)
    started = time.monotonic()
    catalog, runs, registry, serving = services.catalog, services.runs, services.registry, services.serving
    sources = []
    for i in range(tier.sources):
        sources.append((await catalog.register_source(SourceSpec(f"src-{i:03d}", "bucket"), ACTOR)).entity.id)
    weights = [1 / (i + 1) for i in range(tier.sources)]  # Zipf-like: src-000 feeds the most

    levels: list[list[str]] = [[] for _ in range(8)]
    for i in range(tier.versions):
        level = 0 if i < tier.versions // 4 else rng.randint(1, 7)
        while level > 0 and not any(levels[:level]):
            level -= 1
        name = f"ds-{i:04d}"
        await catalog.register_dataset(DatasetSpec(name), ACTOR)
        if level == 0:
            chosen = sorted(set(rng.choices(sources, weights=weights, k=rng.randint(1, 2))))
            spec = DatasetVersionSpec(name, "v1", created_at=_at(i), source_ids=tuple(chosen))
        else:
            lower = [v for lv in levels[:level] for v in lv]
            parents = sorted(set(rng.sample(lower, k=min(len(lower), rng.randint(1, 3)))))
            spec = DatasetVersionSpec(
                name, "v1", created_at=_at(i), derived_from=tuple(Derivation(p, "transform") for p in parents)
            )
        levels[level].append((await catalog.register_dataset_version(spec, ACTOR)).entity.id)
    progress(f"  {tier.versions} dataset versions ({time.monotonic() - started:.0f}s)")

    all_versions = [v for lv in levels for v in lv]
    slice_specs = [
        SliceSpec(
            version,
            f"part-{s}",
            predicate=f"hash(id) % {tier.slices_per_version} = {s}",
            created_at=_at(tier.versions + 1),
        )
        for version in all_versions
        for s in range(tier.slices_per_version)
    ]
    slices = [r.entity.id for r in await _in_flight([catalog.register_slice(x, ACTOR) for x in slice_specs])]
    progress(f"  {len(slices)} slices ({time.monotonic() - started:.0f}s)")

    model_versions: list[str] = []
    production: list[str] = []
    run_specs = []
    for i in range(tier.runs):
        start = tier.versions + 10 + i * 10
        used = sorted(set(rng.sample(slices, k=rng.randint(1, 5))))
        run_specs.append(RunSpec(
            key=f"run-{i:05d}", kind=RunKind.TRAIN, experiment=f"exp-{i % 10}", status=RunStatus.FINISHED,
            started_at=_at(start), ended_at=_at(start + 5), params={"lr": str(rng.choice([1e-3, 3e-4, 1e-4]))},
            metrics={"acc": round(rng.random(), 3)}, inputs=tuple(RunInput(s, InputRole.TRAIN) for s in used),
        ))  # fmt: skip
    run_ids = [r.entity.id for r in await _in_flight([runs.register_run(x, ACTOR) for x in run_specs])]
    progress(f"  {tier.runs} runs ({time.monotonic() - started:.0f}s)")
    for i, run_id in enumerate(run_ids):
        if i % tier.model_every:
            continue
        start = tier.versions + 10 + i * 10
        model = f"model-{i % 50:02d}"
        await registry.register_model(ModelSpec(model), ACTOR)
        base = rng.choice(model_versions) if model_versions and rng.random() < 0.1 else None
        version = await registry.register_model_version(
            ModelVersionSpec(
                model,
                f"s3://bench/{model}/{i}",
                trained_by=run_id,
                fine_tuned_from=base,
                created_at=_at(start + 6),
            ),
            ACTOR,
        )
        model_versions.append(version.entity.id)
        if rng.random() < 0.3:
            await registry.change_stage(
                StageChange(version.entity.id, Stage.STAGING, at=_at(start + 7)), ACTOR
            )
            await registry.change_stage(
                StageChange(version.entity.id, Stage.PRODUCTION, at=_at(start + 8)), ACTOR
            )
            production.append(version.entity.id)
    progress(f"  {len(model_versions)} model versions ({time.monotonic() - started:.0f}s)")

    endpoints = []
    deploy_at = tier.versions + 10 + tier.runs * 10 + 100
    for e in range(tier.endpoints):
        name = f"ep-{e:03d}"
        await serving.register_endpoint(EndpointSpec(name, "production"), ACTOR)
        endpoints.append(name)
        await serving.deploy(
            DeploymentSpec(name, production[e % len(production)], started_at=_at(deploy_at)), ACTOR
        )

    keys = []
    batch: list[InferenceSpec] = []
    for n in range(tier.inferences):
        key = f"inf-{n:07d}"
        keys.append(key)
        batch.append(InferenceSpec(key, _at(deploy_at + 1 + n / 100), endpoint=endpoints[n % len(endpoints)]))
        if len(batch) == 5000 or n == tier.inferences - 1:
            outcome = await serving.log_inferences(batch, ACTOR)
            assert not outcome.rejected, outcome.rejected[:3]
            batch = []
    progress(f"  {tier.inferences} inferences ({time.monotonic() - started:.0f}s)")
    return Graph(sources, model_versions, production, endpoints, keys, levels, _at(deploy_at + 1))


WINDOW_SECONDS = 30 * 24 * 3600  # the scale curve's traffic: a fixed 30 days, denser at each step


async def add_inferences(
    services: Services, graph: Graph, first: int, count: int, progress: Callable[[str], None]
) -> None:
    """Log inferences number `first` … `first + count - 1` over a fixed 30-day window: inference n at
    second n mod the window (plus n div the window microseconds, so every time is distinct), on
    endpoint n mod the endpoints. More inferences mean more traffic in the same hours, as at a busier
    deployment — the rollups' buckets (hours × deployments) stay the same."""
    started = time.monotonic()
    batch: list[InferenceSpec] = []
    for n in range(first, first + count):
        at = graph.traffic_from + timedelta(seconds=n % WINDOW_SECONDS, microseconds=n // WINDOW_SECONDS)
        batch.append(InferenceSpec(f"inf-{n:08d}", at, endpoint=graph.endpoints[n % len(graph.endpoints)]))
        if len(batch) == 5000 or n == first + count - 1:
            outcome = await services.serving.log_inferences(batch, ACTOR)
            assert not outcome.rejected, outcome.rejected[:3]
            batch = []
            done = n - first + 1
            if done % 500_000 == 0:
                progress(f"    {done:,} of {count:,} inferences ({time.monotonic() - started:.0f}s)")
    graph.inference_keys.append(f"inf-{first + count // 2:08d}")


async def _in_flight(calls: list[Any]) -> list[Any]:
    """Await independent registrations, CONCURRENCY at a time, in order."""
    results: list[Any] = []
    for i in range(0, len(calls), CONCURRENCY):
        results.extend(await asyncio.gather(*calls[i : i + CONCURRENCY]))
    return results
