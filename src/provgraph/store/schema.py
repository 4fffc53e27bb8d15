"""Constraints and indexes, applied at startup. Every statement is idempotent (`IF NOT EXISTS`).

Uniqueness constraints are what make concurrent `MERGE`s safe: two writers registering the same key
serialise on the constraint's index lock instead of creating two nodes.
"""

from __future__ import annotations

from typing import LiteralString

from provgraph.store.graph import Graph

STATEMENTS: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT source_id IF NOT EXISTS FOR (n:Source) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT dataset_id IF NOT EXISTS FOR (n:Dataset) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT dataset_version_id IF NOT EXISTS FOR (n:DatasetVersion) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT slice_id IF NOT EXISTS FOR (n:Slice) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT experiment_id IF NOT EXISTS FOR (n:Experiment) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT model_id IF NOT EXISTS FOR (n:Model) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT model_version_id IF NOT EXISTS FOR (n:ModelVersion) REQUIRE n.id IS UNIQUE",
    # A model version is identified to clients by its artifact: registering the same artifact twice
    # under one model must return the same version, even when two writers race.
    "CREATE CONSTRAINT model_version_artifact IF NOT EXISTS FOR (n:ModelVersion) "
    "REQUIRE (n.modelId, n.artifactUri) IS UNIQUE",
    "CREATE CONSTRAINT endpoint_id IF NOT EXISTS FOR (n:Endpoint) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT deployment_id IF NOT EXISTS FOR (n:Deployment) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT deployment_key IF NOT EXISTS FOR (n:Deployment) "
    "REQUIRE (n.endpointId, n.modelVersionId, n.startedAt) IS UNIQUE",
    "CREATE CONSTRAINT inference_id IF NOT EXISTS FOR (n:Inference) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT registry_event_id IF NOT EXISTS FOR (n:RegistryEvent) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT api_token_hash IF NOT EXISTS FOR (n:ApiToken) REQUIRE n.hash IS UNIQUE",
    "CREATE CONSTRAINT api_token_id IF NOT EXISTS FOR (n:ApiToken) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT idempotency_key_id IF NOT EXISTS FOR (n:IdempotencyKey) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX idempotency_key_expiry IF NOT EXISTS FOR (n:IdempotencyKey) ON (n.expiresAt)",
    "CREATE INDEX inference_at IF NOT EXISTS FOR (n:Inference) ON (n.at)",
    "CREATE INDEX deployment_endpoint IF NOT EXISTS FOR (n:Deployment) ON (n.endpointId)",
    # A version's stage is derived from its events now; the index on the old property is dropped.
    "DROP INDEX model_version_stage IF EXISTS",
    "CREATE INDEX registry_event_alias IF NOT EXISTS FOR (n:RegistryEvent) ON (n.modelId, n.alias)",
    "CREATE INDEX run_experiment IF NOT EXISTS FOR (n:Run) ON (n.experimentId)",
    "CREATE INDEX registry_event_model IF NOT EXISTS FOR (n:RegistryEvent) ON (n.modelId)",
    "CREATE INDEX model_version_model IF NOT EXISTS FOR (n:ModelVersion) ON (n.modelId)",
)


async def apply_schema(graph: Graph) -> None:
    """Create every constraint and index that does not exist yet, then wait until they are online."""
    for statement in STATEMENTS:
        await graph.write_statement(statement)
    await graph.write_statement("CALL db.awaitIndexes(60)")


async def count_nodes(graph: Graph) -> int:
    """How many nodes the database holds (progress and idempotency reports)."""
    record = await graph.read_one("MATCH (n) RETURN count(n) AS n")
    return int(record["n"]) if record else 0
