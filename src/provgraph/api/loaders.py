"""Per-request DataLoaders: nested fields load in one batched query per level, never one per node.

Built fresh for every request so that one caller's cache never serves another caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.domain.lineage import Entity, VersionAt
from provgraph.domain.registry import Model, ModelVersion, RegistryEvent
from provgraph.domain.runs import Experiment, Run
from provgraph.domain.serving import Deployment, Endpoint
from provgraph.service.services import Services

V = TypeVar("V")
D = TypeVar("D")
K = TypeVar("K", str, tuple[str, datetime, datetime])


def batch(fetch: Callable[[Sequence[K]], Awaitable[dict[K, V]]]) -> DataLoader[K, V | None]:
    """A loader over a batch read that answers a dict; missing keys load as None, in key order."""

    async def load(keys: list[K]) -> list[V | None]:
        found = await fetch(keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def batch_default(
    fetch: Callable[[Sequence[str]], Awaitable[dict[str, V]]], default: V
) -> DataLoader[str, V]:
    """Like `batch`, with a default for keys the read did not answer (an empty list, a zero count)."""

    async def load(keys: list[str]) -> list[V]:
        found = await fetch(keys)
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True)
class Loaders:
    sources: DataLoader[str, Source | None]
    datasets: DataLoader[str, Dataset | None]
    dataset_versions: DataLoader[str, DatasetVersion | None]
    slices: DataLoader[str, Slice | None]
    version_ids_of_dataset: DataLoader[str, list[str]]
    slice_ids_of_version: DataLoader[str, list[str]]
    experiments: DataLoader[str, Experiment | None]
    runs: DataLoader[str, Run | None]
    models: DataLoader[str, Model | None]
    model_versions: DataLoader[str, ModelVersion | None]
    version_ids_of_model: DataLoader[str, list[str]]
    events_of_version: DataLoader[str, list[RegistryEvent]]
    endpoints: DataLoader[str, Endpoint | None]
    deployments: DataLoader[str, Deployment | None]
    deployments_of_version: DataLoader[str, list[Deployment]]
    deployments_of_endpoint: DataLoader[str, list[Deployment]]
    inference_count: DataLoader[str, int]
    entities: DataLoader[str, Entity | None]  # any kind, by id: one round trip for a page of mixed kinds
    affected_versions: DataLoader[tuple[str, datetime, datetime], VersionAt | None]
    open_lineage_facets: DataLoader[str, dict[str, Any] | None]  # of runs
    dataset_version_facets: DataLoader[str, dict[str, Any] | None]  # OpenLineage facets of dataset versions


def build_loaders(services: Services) -> Loaders:
    catalog, runs, registry, serving = services.catalog, services.runs, services.registry, services.serving
    no_ids: list[str] = []
    no_events: list[RegistryEvent] = []
    no_deployments: list[Deployment] = []
    return Loaders(
        sources=batch(catalog.sources_by_ids),
        datasets=batch(catalog.datasets_by_ids),
        dataset_versions=batch(catalog.dataset_versions_by_ids),
        slices=batch(catalog.slices_by_ids),
        version_ids_of_dataset=batch_default(catalog.version_ids_of_datasets, no_ids),
        slice_ids_of_version=batch_default(catalog.slice_ids_of_versions, no_ids),
        experiments=batch(runs.experiments_by_ids),
        runs=batch(runs.runs_by_ids),
        models=batch(registry.models_by_ids),
        model_versions=batch(registry.model_versions_by_ids),
        version_ids_of_model=batch_default(registry.version_ids_of_models, no_ids),
        events_of_version=batch_default(registry.events_of_versions, no_events),
        endpoints=batch(serving.endpoints_by_ids),
        deployments=batch(serving.deployments_by_ids),
        deployments_of_version=batch_default(serving.deployments_of_versions, no_deployments),
        deployments_of_endpoint=batch_default(serving.deployments_of_endpoints, no_deployments),
        inference_count=batch_default(serving.inference_counts, 0),
        entities=batch(services.provenance.entities_by_ids),
        affected_versions=batch(services.provenance.affected_versions),
        open_lineage_facets=batch(services.openlineage.facets_of_runs),
        dataset_version_facets=batch(services.openlineage.facets_of_dataset_versions),
    )
