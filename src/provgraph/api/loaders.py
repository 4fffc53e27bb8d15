"""Per-request DataLoaders: nested fields load in one batched query per level, never one per node.

Built fresh for every request so that one caller's cache never serves another caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.service.services import Services

K = TypeVar("K")
V = TypeVar("V")


def batch(fetch: Callable[[Sequence[str]], Awaitable[dict[str, V]]]) -> DataLoader[str, V | None]:
    """A loader over a batch read that answers a dict; missing keys load as None, in key order."""

    async def load(keys: list[str]) -> list[V | None]:
        found = await fetch(keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


def batch_lists(fetch: Callable[[Sequence[str]], Awaitable[dict[str, list[V]]]]) -> DataLoader[str, list[V]]:
    async def load(keys: list[str]) -> list[list[V]]:
        found = await fetch(keys)
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True)
class Loaders:
    sources: DataLoader[str, Source | None]
    datasets: DataLoader[str, Dataset | None]
    dataset_versions: DataLoader[str, DatasetVersion | None]
    slices: DataLoader[str, Slice | None]
    version_ids_of_dataset: DataLoader[str, list[str]]
    slice_ids_of_version: DataLoader[str, list[str]]


def build_loaders(services: Services) -> Loaders:
    catalog = services.catalog
    return Loaders(
        sources=batch(catalog.sources_by_ids),
        datasets=batch(catalog.datasets_by_ids),
        dataset_versions=batch(catalog.dataset_versions_by_ids),
        slices=batch(catalog.slices_by_ids),
        version_ids_of_dataset=batch_lists(catalog.version_ids_of_datasets),
        slice_ids_of_version=batch_lists(catalog.slice_ids_of_versions),
    )
