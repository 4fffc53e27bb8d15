"""The demo provenance story `make run` loads. Every step is an idempotent registration, so loading it
twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from provgraph.config import Settings
from provgraph.domain.catalog import DatasetSpec, DatasetVersionSpec, Derivation, SourceSpec
from provgraph.service.services import Services
from provgraph.store.graph import Graph, open_driver
from provgraph.store.schema import apply_schema

ACTOR = "demo-loader"

EXAMPLE_QUERY = """{
  datasetVersion(id: "datasetVersion:reviews:v2") {
    version rowCount
    sources { name kind license }
    derivedFrom { transform from { id sources { name } } }
  }
}"""


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


async def load_story(services: Services) -> int:
    """Register the story through the services; returns how many entities were newly created."""
    catalog = services.catalog
    created = 0
    for spec in (
        SourceSpec("acme-reviews", "vendor", uri="s3://acme/reviews", owner="data-team", license="CC-BY-4.0"),
        SourceSpec(
            "web-crawl-2026", "crawl", uri="https://crawler.example/2026", owner="crawler", license="unknown"
        ),
        SourceSpec("support-tickets", "database", uri="postgres://support/tickets", owner="support"),
    ):
        created += (await catalog.register_source(spec, ACTOR)).created
    created += (await catalog.register_dataset(DatasetSpec("reviews", "Product reviews"), ACTOR)).created
    v1 = await catalog.register_dataset_version(
        DatasetVersionSpec(
            dataset="reviews",
            version="v1",
            digest="sha256:1b4f0e9851971998e732078544c96b36c3d01cedf7caa332359d6f1d83567014",
            uri="s3://lake/reviews/v1",
            row_count=120_000,
            created_at=_at(1, 10),
            source_ids=("source:acme-reviews", "source:web-crawl-2026"),
        ),
        ACTOR,
    )
    v2 = await catalog.register_dataset_version(
        DatasetVersionSpec(
            dataset="reviews",
            version="v2",
            digest="sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
            uri="s3://lake/reviews/v2",
            row_count=118_500,
            created_at=_at(2, 1),
            derived_from=(Derivation(v1.entity.id, "dedupe + language filter"),),
        ),
        ACTOR,
    )
    created += v1.created + v2.created
    return created


async def load_demo(settings: Settings) -> str:
    driver = open_driver(
        settings.neo4j_uri,
        settings.neo4j_user,
        settings.neo4j_password,
        connect_timeout=settings.connect_timeout,
        retry_time=settings.db_timeout / 2,
    )
    graph = Graph(driver, settings.neo4j_database, settings.db_timeout)
    try:
        await apply_schema(graph)
        created = await load_story(Services.build(graph, settings))
    finally:
        await graph.close()
    return (
        f"Demo story loaded ({created} new entities; 0 means it was already there).\n"
        f"Try this query in GraphiQL at http://{settings.host}:{settings.port}/graphql :\n{EXAMPLE_QUERY}"
    )
