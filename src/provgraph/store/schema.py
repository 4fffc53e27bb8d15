"""Constraints and indexes, applied at startup. Every statement is idempotent (`IF NOT EXISTS`). They run
under the schema lease, before the data migrations (store/migrations.py).

Uniqueness constraints are what make concurrent `MERGE`s safe: two writers registering the same key
serialise on the constraint's index lock instead of creating two nodes.
"""

from __future__ import annotations

from typing import LiteralString

from provgraph.store import migrations
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
    "CREATE CONSTRAINT provgraph_schema_id IF NOT EXISTS FOR (n:ProvgraphSchema) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT schema_migration_version IF NOT EXISTS FOR (n:SchemaMigration) REQUIRE n.version IS UNIQUE",
    "CREATE CONSTRAINT ledger_scope IF NOT EXISTS FOR (n:Ledger) REQUIRE n.scope IS UNIQUE",
    "CREATE CONSTRAINT ledger_entry_id IF NOT EXISTS FOR (n:LedgerEntry) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX ledger_entry_scope IF NOT EXISTS FOR (n:LedgerEntry) ON (n.scope, n.seq)",
    # One case per excluded source, one decision per case and model version (store/exclusions.py).
    "CREATE CONSTRAINT exclusion_case_id IF NOT EXISTS FOR (n:ExclusionCase) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT exclusion_case_source IF NOT EXISTS FOR (n:ExclusionCase) REQUIRE n.sourceId IS UNIQUE",
    "CREATE CONSTRAINT exclusion_decision_key IF NOT EXISTS FOR (n:ExclusionDecision) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX exclusion_decision_case IF NOT EXISTS FOR (n:ExclusionDecision) ON (n.caseId, n.modelVersionId)",
    "CREATE INDEX ledger_entry_subject IF NOT EXISTS FOR (n:LedgerEntry) ON (n.scope, n.subjectId)",
    "CREATE CONSTRAINT idempotency_key_id IF NOT EXISTS FOR (n:IdempotencyKey) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX idempotency_key_expiry IF NOT EXISTS FOR (n:IdempotencyKey) ON (n.expiresAt)",
    # What search (store/search.py) looks in: names, keys, versions, descriptions, URIs, ids. The classic
    # analyzer splits `datasetVersion:corpus:v3` into words; the standard one keeps it whole (colons join
    # letters in Unicode word breaking), so `corpus v3` would not find it.
    "DROP INDEX provgraph_search IF EXISTS",  # a pre-release build's, with the standard analyzer
    "CREATE FULLTEXT INDEX node_search IF NOT EXISTS "
    "FOR (n:Source|Dataset|DatasetVersion|Slice|Experiment|Run|Model|ModelVersion|Endpoint|Deployment|Inference) "
    "ON EACH [n.id, n.name, n.key, n.version, n.description, n.artifactUri, n.uri, n.owner] "
    "OPTIONS {indexConfig: {`fulltext.analyzer`: 'classic'}}",
    "CREATE INDEX inference_at IF NOT EXISTS FOR (n:Inference) ON (n.at)",
    "CREATE INDEX deployment_endpoint IF NOT EXISTS FOR (n:Deployment) ON (n.endpointId)",
    # A version's stage is derived from its events now; the index on the old property is dropped.
    "DROP INDEX model_version_stage IF EXISTS",
    "CREATE INDEX registry_event_alias IF NOT EXISTS FOR (n:RegistryEvent) ON (n.modelId, n.alias)",
    "CREATE INDEX run_experiment IF NOT EXISTS FOR (n:Run) ON (n.experimentId)",
    "CREATE INDEX registry_event_model IF NOT EXISTS FOR (n:RegistryEvent) ON (n.modelId)",
    "CREATE INDEX model_version_model IF NOT EXISTS FOR (n:ModelVersion) ON (n.modelId)",
    # Inference rollups (store/rollups.py): buckets by key, summed by model version or deployment; a
    # bucket a bound cuts through is recounted by an index seek over one hour of one version's traffic.
    "CREATE CONSTRAINT inference_rollup_key IF NOT EXISTS FOR (n:InferenceRollup) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX inference_rollup_version IF NOT EXISTS FOR (n:InferenceRollup) ON (n.modelVersionId)",
    "CREATE INDEX inference_rollup_deployment IF NOT EXISTS FOR (n:InferenceRollup) ON (n.deploymentId)",
    "CREATE INDEX inference_model_at IF NOT EXISTS FOR (n:Inference) ON (n.modelVersionId, n.at)",
    # Record keys (store/membership.py): one registration per (data, source), found by its filter's slot.
    "CREATE CONSTRAINT record_keys_id IF NOT EXISTS FOR (n:RecordKeys) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX record_keys_slot IF NOT EXISTS FOR (n:RecordKeys) ON (n.slot)",
    "CREATE CONSTRAINT record_key_slots_shape IF NOT EXISTS FOR (n:RecordKeySlots) REQUIRE n.shape IS UNIQUE",
    "CREATE CONSTRAINT row_ranges_id IF NOT EXISTS FOR (n:RowRanges) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX row_ranges_table IF NOT EXISTS FOR (n:RowRanges) ON (n.table)",
)


async def apply_schema(graph: Graph, *, wait: float | None = None) -> int:
    """Create every constraint and index that does not exist yet, wait until they are online, and bring
    the data up to the code's schema version (store/migrations.py); returns that version.

    Raises SchemaTooNew (SCHEMA_TOO_NEW) for a database a newer provgraph migrated, and Unavailable when
    another process's migration holds the lease longer than `wait` seconds (default migrations.WAIT)."""

    async def constraints() -> None:
        for statement in STATEMENTS:
            await graph.write_statement(statement)
        await graph.write_statement("CALL db.awaitIndexes(60)")

    return await migrations.migrate(graph, constraints, wait=wait)


async def count_nodes(graph: Graph, recorded_by: str | None = None) -> int:
    """How many nodes the database holds, or of them how many `recorded_by` recorded (progress and
    idempotency reports)."""
    record = await graph.read_one(
        "MATCH (n) WHERE $by IS NULL OR n.recordedBy = $by RETURN count(n) AS n", {"by": recorded_by}
    )
    return int(record["n"]) if record else 0
