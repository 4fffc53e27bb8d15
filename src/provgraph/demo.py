"""The demo provenance story `make run` loads.

A sentiment model is trained on product reviews (from a licensed vendor and a web crawl) and support
tickets; a support assistant is fine-tuned from it on a forum scrape that is later excluded because the
forum's terms changed. Versions move through staging and production over the first half of 2026; the
sentiment API rolls out version 2 behind a canary, then rolls back to version 1. Inferences are logged
against endpoints and resolved to whatever was live.

Every step is idempotent (registrations by key, deployments by start time, registry changes skipped
when the same change is already in the history), so loading the story twice changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from provgraph.config import Settings
from provgraph.domain.catalog import DatasetSpec, DatasetVersionSpec, Derivation, SliceSpec, SourceSpec
from provgraph.domain.records import Caller
from provgraph.domain.registry import AliasChange, ModelSpec, ModelVersionSpec, Stage, StageChange
from provgraph.domain.runs import (
    Code,
    Environment,
    ExperimentSpec,
    InputRole,
    RunInput,
    RunKind,
    RunSpec,
    RunStatus,
)
from provgraph.domain.serving import DeploymentSpec, EndpointSpec, InferenceSpec
from provgraph.service.services import Services
from provgraph.store.graph import Graph, open_driver
from provgraph.store.schema import apply_schema, count_nodes

ACTOR = Caller("demo-loader")

EXAMPLE_QUERY = """{
  modelsUsingSource(sourceId: "source:forum-scrape", stage: PRODUCTION) {
    totalCount
    items { modelVersion { id } stage deployments { endpointId } paths { nodeIds } }
  }
}"""


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


ENV_2_5 = Environment(
    image_digest="sha256:9f2c1d7e0b6a", python="3.11.9", framework="torch", framework_version="2.5.1",
    packages=("torch==2.5.1", "transformers==4.46.0", "numpy==2.1.3"),
)  # fmt: skip
ENV_2_6 = Environment(
    image_digest="sha256:4b8e2a90c3d1", python="3.11.9", framework="torch", framework_version="2.6.0",
    packages=("torch==2.6.0", "transformers==4.48.1", "numpy==2.2.1"),
)  # fmt: skip


async def _catalog(services: Services) -> None:
    catalog = services.catalog
    for spec in (
        SourceSpec(
            "acme-reviews", "vendor", uri="s3://acme/reviews", owner="data-partnerships", license="CC-BY-4.0"
        ),
        SourceSpec(
            "web-crawl-2026",
            "crawl",
            uri="https://crawler.internal/2026",
            owner="crawler-team",
            license="mixed",
        ),
        SourceSpec(
            "support-tickets",
            "database",
            uri="postgres://support/tickets",
            owner="support",
            license="internal",
        ),
        SourceSpec(
            "forum-scrape",
            "crawl",
            uri="https://forum.example.com",
            owner="crawler-team",
            license="forum-tos-2025",
        ),
    ):
        await catalog.register_source(spec, ACTOR)
    for name, description in (
        ("reviews", "Product reviews with star ratings"),
        ("tickets", "Resolved support tickets"),
        ("forum", "Public forum threads"),
    ):
        await catalog.register_dataset(DatasetSpec(name, description, owner="data-platform"), ACTOR)

    await catalog.register_dataset_version(
        DatasetVersionSpec(
            dataset="reviews", version="v1", digest="sha256:1b4f0e98", uri="s3://lake/reviews/v1", row_count=120_000,
            created_at=at(1, 10), source_ids=("source:acme-reviews", "source:web-crawl-2026"),
            schema='{"text": "string", "stars": "int"}',
        ),
        ACTOR,
    )  # fmt: skip
    await catalog.register_dataset_version(
        DatasetVersionSpec(
            dataset="reviews", version="v2", digest="sha256:60303ae2", uri="s3://lake/reviews/v2", row_count=118_500,
            created_at=at(1, 20), derived_from=(Derivation("datasetVersion:reviews:v1", "dedupe"),),
        ),
        ACTOR,
    )  # fmt: skip
    await services.runs.register_run(
        RunSpec(
            key="reviews-langfilter-0131", kind=RunKind.PREPROCESS, experiment="data-prep", status=RunStatus.FINISHED,
            started_at=at(1, 31), ended_at=at(1, 31, 11), params={"languages": "en,de"},
            code=Code("git@git.internal:data/pipelines.git", "7c41e2a", "filters/language.py"), environment=ENV_2_5,
            inputs=(RunInput("datasetVersion:reviews:v2", InputRole.OTHER),),
        ),
        ACTOR,
    )  # fmt: skip
    await catalog.register_dataset_version(
        DatasetVersionSpec(
            dataset="reviews", version="v3", digest="sha256:a7c3e511", uri="s3://lake/reviews/v3", row_count=97_250,
            created_at=at(1, 31, 12), derived_from=(Derivation("datasetVersion:reviews:v2", "language filter en,de"),),
            generated_by="run:reviews-langfilter-0131",
        ),
        ACTOR,
    )  # fmt: skip
    for name, predicate, rows in (
        ("train", "hash(id) % 10 < 8", 77_800),
        ("validation", "hash(id) % 10 = 8", 9_725),
        ("test", "hash(id) % 10 = 9", 9_725),
    ):
        await catalog.register_slice(
            SliceSpec(
                "datasetVersion:reviews:v3", name, predicate=predicate, row_count=rows, created_at=at(2, 1)
            ),
            ACTOR,
        )
    await catalog.register_dataset_version(
        DatasetVersionSpec(
            dataset="tickets", version="2026-01", digest="sha256:5e0d9c21", uri="s3://lake/tickets/2026-01",
            row_count=40_200, created_at=at(1, 15), source_ids=("source:support-tickets",),
        ),
        ACTOR,
    )  # fmt: skip
    await catalog.register_dataset_version(
        DatasetVersionSpec(
            dataset="forum", version="v1", digest="sha256:d1e2f3a4", uri="s3://lake/forum/v1", row_count=15_000,
            created_at=at(2, 20), source_ids=("source:forum-scrape",),
        ),
        ACTOR,
    )  # fmt: skip


async def _training(services: Services) -> None:
    runs, registry = services.runs, services.registry
    await runs.register_experiment(ExperimentSpec("sentiment", "Review sentiment classifier"), ACTOR)
    await runs.register_experiment(ExperimentSpec("support-assistant", "Support reply suggestions"), ACTOR)
    for key, started, lr, code, env in (
        ("sentiment-train-0205", at(2, 5), "3e-5", "e1f2a3b", ENV_2_5),
        ("sentiment-train-0410", at(4, 10), "2e-5", "9d8c7b6", ENV_2_6),
    ):
        await runs.register_run(
            RunSpec(
                key=key, kind=RunKind.TRAIN, experiment="sentiment", status=RunStatus.FINISHED, started_at=started,
                ended_at=started + timedelta(hours=6), params={"lr": lr, "epochs": "3", "batch_size": "32"},
                metrics={"val_f1": 0.91 if key.endswith("0205") else 0.93},
                code=Code("git@git.internal:ml/sentiment.git", code, "train.py"), environment=env,
                inputs=(
                    RunInput("slice:reviews:v3:train", InputRole.TRAIN),
                    RunInput("slice:reviews:v3:validation", InputRole.VALIDATION),
                    RunInput("datasetVersion:tickets:2026-01", InputRole.TRAIN),
                ),
            ),
            ACTOR,
        )  # fmt: skip
    await runs.register_run(
        RunSpec(
            key="support-finetune-0225", kind=RunKind.FINETUNE, experiment="support-assistant",
            status=RunStatus.FINISHED, started_at=at(2, 25), ended_at=at(2, 25, 15), params={"lr": "1e-5", "epochs": "2"},
            code=Code("git@git.internal:ml/assistant.git", "0a1b2c3", "finetune.py"), environment=ENV_2_5,
            inputs=(RunInput("datasetVersion:forum:v1", InputRole.TRAIN),),
        ),
        ACTOR,
    )  # fmt: skip
    await registry.register_model(ModelSpec("sentiment", "Review sentiment classifier", "ml-platform"), ACTOR)
    await registry.register_model(
        ModelSpec("support-assistant", "Support reply suggestions", "support-ml"), ACTOR
    )
    for model, artifact, run, base, created, f1 in (
        ("sentiment", "s3://models/sentiment/0205", "run:sentiment-train-0205", None, at(2, 6), 0.91),
        ("support-assistant", "s3://models/assistant/0225", "run:support-finetune-0225", "modelVersion:sentiment:1",
         at(2, 26), None),
        ("sentiment", "s3://models/sentiment/0410", "run:sentiment-train-0410", None, at(4, 11), 0.93),
    ):  # fmt: skip
        await registry.register_model_version(
            ModelVersionSpec(
                model=model, artifact_uri=artifact, framework="torch", trained_by=run, fine_tuned_from=base,
                created_at=created, metrics={"val_f1": f1} if f1 else {}, tags=("nlp",),
            ),
            ACTOR,
        )  # fmt: skip


async def _ensure_stage(
    services: Services, version: str, stage: Stage, when: datetime, reason: str, **extra: bool
) -> None:
    # A repeat of a recorded change (same version, stage and time) records nothing, so reloading is harmless.
    await services.registry.change_stage(StageChange(version, stage, reason, when, **extra), ACTOR)


async def _ensure_alias(services: Services, model: str, alias: str, version: str, when: datetime) -> None:
    await services.registry.change_alias(AliasChange(model, alias, version, "promoted", when), ACTOR)


async def _registry_and_serving(services: Services) -> None:
    s1, s2, a1 = "modelVersion:sentiment:1", "modelVersion:sentiment:2", "modelVersion:support-assistant:1"
    await _ensure_stage(services, s1, Stage.STAGING, at(2, 10), "offline eval passed (val_f1 0.91)")
    await _ensure_stage(services, s1, Stage.PRODUCTION, at(3, 1), "approved by model-risk review MR-112")
    await _ensure_alias(services, "sentiment", "champion", s1, at(3, 1))
    await _ensure_stage(services, a1, Stage.STAGING, at(3, 5), "human eval 4.2/5")
    await _ensure_stage(services, a1, Stage.PRODUCTION, at(3, 15), "approved by support leads")
    await _ensure_stage(services, s2, Stage.STAGING, at(4, 15), "offline eval passed (val_f1 0.93)")
    await _ensure_stage(services, s2, Stage.PRODUCTION, at(5, 1), "canary healthy", archive_others=True)
    await _ensure_alias(services, "sentiment", "champion", s2, at(5, 1))

    serving = services.serving
    for name, environment in (("sentiment-api", "production"), ("support-bot", "production")):
        await serving.register_endpoint(EndpointSpec(name, environment), ACTOR)
    deploy = serving.deploy
    first = await deploy(DeploymentSpec("sentiment-api", s1, at(3, 1), 1.0, "initial launch"), ACTOR)
    await deploy(DeploymentSpec("support-bot", a1, at(3, 15), 1.0, "initial launch"), ACTOR)
    # Version 2 goes out as a 10% canary beside version 1, then takes all traffic, then is rolled back.
    await serving.end_deployment(first.entity.id, at(4, 20), "make room for the canary", ACTOR)
    reduced = await deploy(DeploymentSpec("sentiment-api", s1, at(4, 20), 0.9, "canary split"), ACTOR)
    canary = await deploy(DeploymentSpec("sentiment-api", s2, at(4, 20), 0.1, "canary"), ACTOR)
    await serving.end_deployment(reduced.entity.id, at(5, 1), "full rollout of v2", ACTOR)
    await serving.end_deployment(canary.entity.id, at(5, 1), "full rollout of v2", ACTOR)
    full = await deploy(DeploymentSpec("sentiment-api", s2, at(5, 1), 1.0, "full rollout"), ACTOR)
    await serving.end_deployment(full.entity.id, at(5, 5), "rollback: latency regression", ACTOR)
    await deploy(DeploymentSpec("sentiment-api", s1, at(5, 5), 1.0, "rollback"), ACTOR)

    inferences = [
        InferenceSpec(f"demo-sent-{day:02d}-{month:02d}", at(month, day, 14), endpoint="sentiment-api",
                      input_digest=f"sha256:in{month}{day}", output_digest=f"sha256:out{month}{day}", latency_ms=12.5)
        for month, day in ((3, 2), (3, 20), (4, 5), (5, 2), (5, 3), (5, 10), (6, 1))
    ] + [
        InferenceSpec(f"demo-support-{day:02d}-{month:02d}", at(month, day, 16), endpoint="support-bot", latency_ms=230.0)
        for month, day in ((3, 16), (4, 1), (5, 20), (6, 10))
    ]  # fmt: skip
    await serving.log_inferences(inferences, ACTOR)
    await services.exclusions.exclude_source(
        "source:forum-scrape", "forum terms of service no longer allow ML training", at(6, 15), ACTOR
    )


async def load_story(services: Services) -> None:
    await _catalog(services)
    await _training(services)
    await _registry_and_serving(services)


async def load_demo(settings: Settings) -> str:
    driver = open_driver(
        settings.neo4j_uri,
        settings.neo4j_user,
        settings.neo4j_password,
        connect_timeout=settings.connect_timeout,
    )
    graph = Graph(driver, settings.neo4j_database, settings.db_timeout)
    try:
        await apply_schema(graph)
        before = await count_nodes(graph, ACTOR.name)
        await load_story(Services.build(graph, settings))
        after = await count_nodes(graph, ACTOR.name)
        total = await count_nodes(graph)
    finally:
        await graph.close()
    return (
        f"Demo story loaded: {after} nodes recorded by {ACTOR.name} ({after - before} new; 0 new means it was "
        f"already there); the database holds {total} nodes in all.\n"
        f"Try this query in GraphiQL at http://{settings.host}:{settings.port}/graphql :\n{EXAMPLE_QUERY}"
    )
