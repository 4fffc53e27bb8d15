"""The GraphQL documents the SDK sends. Fragments select what the result dataclasses hold."""

from __future__ import annotations

SOURCE = "fragment SourceFields on Source { id name kind uri owner license excludedAt exclusionReason }"
DATASET = "fragment DatasetFields on Dataset { id name description }"
DATASET_VERSION = (
    "fragment DatasetVersionFields on DatasetVersion { id datasetId version createdAt digest uri rowCount "
    "sourceIds derivedFrom { fromId transform } generatedById }"
)
SLICE = "fragment SliceFields on Slice { id datasetVersionId name createdAt predicate rowCount sourceIds }"
EXPERIMENT = "fragment ExperimentFields on Experiment { id name }"
RUN = (
    "fragment RunFields on Run { id key kind status startedAt endedAt experimentId parentRunId error "
    "params { key value } metrics { key value } inputs { id role } outputIds }"
)
# What `get_run` and the run registrations answer: a run with its code and environment (the package list can
# be long, so the lists of runs in traces and reports leave them out).
RUN_DETAIL = (
    "fragment RunDetailFields on Run { id key kind status startedAt endedAt experimentId parentRunId error "
    "params { key value } metrics { key value } inputs { id role } outputIds "
    "code { repo commit entrypoint dirty } "
    "environment { imageDigest python framework frameworkVersion packages } }"
)
MODEL = "fragment ModelFields on Model { id name description }"
MODEL_VERSION = (
    "fragment ModelVersionFields on ModelVersion { id modelId version artifactUri stage createdAt aliases tags "
    "metrics { key value } framework trainedById fineTunedFromId }"
)
EVENT = "fragment EventFields on RegistryEvent { id seq kind modelVersionId at actor reason fromStage toStage alias hash }"
ENDPOINT = "fragment EndpointFields on Endpoint { id name environment }"
DEPLOYMENT = (
    "fragment DeploymentFields on Deployment { id endpointId modelVersionId startedAt endedAt trafficShare }"
)
INFERENCE = "fragment InferenceFields on Inference { id at modelVersionId deploymentId }"


def _with(body: str, *fragments: str) -> str:
    return "\n".join([body, *fragments])


REGISTER_SOURCE = _with(
    "mutation($input: RegisterSourceInput!) { registerSource(input: $input) { source { ...SourceFields } } }",
    SOURCE,
)
REGISTER_DATASET = _with(
    "mutation($input: RegisterDatasetInput!) { registerDataset(input: $input) { dataset { ...DatasetFields } } }",
    DATASET,
)
REGISTER_DATASET_VERSION = _with(
    "mutation($input: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $input) "
    "{ datasetVersion { ...DatasetVersionFields } } }",
    DATASET_VERSION,
)
REGISTER_SLICE = _with(
    "mutation($input: RegisterSliceInput!) { registerSlice(input: $input) { slice { ...SliceFields } } }",
    SLICE,
)
REGISTER_EXPERIMENT = _with(
    "mutation($input: RegisterExperimentInput!) { registerExperiment(input: $input) "
    "{ experiment { ...ExperimentFields } } }",
    EXPERIMENT,
)
REGISTER_RUN = _with(
    "mutation($input: RegisterRunInput!) { registerRun(input: $input) { run { ...RunDetailFields } } }",
    RUN_DETAIL,
)
COMPLETE_RUN = _with(
    "mutation($input: CompleteRunInput!) { completeRun(input: $input) { created run { ...RunDetailFields } } }",
    RUN_DETAIL,
)
REGISTER_MODEL = _with(
    "mutation($input: RegisterModelInput!) { registerModel(input: $input) { model { ...ModelFields } } }",
    MODEL,
)
REGISTER_MODEL_VERSION = _with(
    "mutation($input: RegisterModelVersionInput!) { registerModelVersion(input: $input) "
    "{ modelVersion { ...ModelVersionFields } } }",
    MODEL_VERSION,
)
TRANSITION_STAGE = _with(
    "mutation($input: TransitionStageInput!) { transitionStage(input: $input) "
    "{ modelVersion { ...ModelVersionFields } events { ...EventFields } } }",
    MODEL_VERSION,
    EVENT,
)
SET_ALIAS = _with(
    "mutation($input: SetAliasInput!) { setAlias(input: $input) "
    "{ modelVersion { ...ModelVersionFields } events { ...EventFields } } }",
    MODEL_VERSION,
    EVENT,
)
REMOVE_ALIAS = _with(
    "mutation($input: RemoveAliasInput!) { removeAlias(input: $input) "
    "{ modelVersion { ...ModelVersionFields } events { ...EventFields } } }",
    MODEL_VERSION,
    EVENT,
)
REGISTER_ENDPOINT = _with(
    "mutation($input: RegisterEndpointInput!) { registerEndpoint(input: $input) { endpoint { ...EndpointFields } } }",
    ENDPOINT,
)
DEPLOY = _with(
    "mutation($input: DeployInput!) { deploy(input: $input) { deployment { ...DeploymentFields } } }",
    DEPLOYMENT,
)
END_DEPLOYMENT = _with(
    "mutation($input: EndDeploymentInput!) { endDeployment(input: $input) { created deployment { ...DeploymentFields } } }",
    DEPLOYMENT,
)
LOG_INFERENCE = _with(
    "mutation($input: InferenceInput!) { logInference(input: $input) { inference { ...InferenceFields } } }",
    INFERENCE,
)
LOG_INFERENCES = (
    "mutation($inferences: [InferenceInput!]!) { logInferences(inferences: $inferences) "
    "{ accepted duplicates rejected { index key code reason field } } }"
)
EXCLUDE_SOURCE = _with(
    "mutation($input: ExcludeSourceInput!) { excludeSource(input: $input) { created source { ...SourceFields } } }",
    SOURCE,
)
CASE = (
    "fragment CaseFields on ExclusionCase { id trigger keyHashCount sourceId reason excludedAt openedBy openedAt "
    "impactDigest impact "
    "affectedIds undecidedIds decisions { modelVersionId decision reason at actor recordedAt } }"
)
DECIDE_EXCLUSION = _with(
    "mutation($input: DecideExclusionInput!) { decideExclusion(input: $input) { created case { ...CaseFields } } }",
    CASE,
)
OPEN_ERASURE_CASE = _with(
    "mutation($keyHashes: [String!]!, $reason: String!) { openErasureCase(keyHashes: $keyHashes, reason: $reason) "
    "{ created case { ...CaseFields } } }",
    CASE,
)
EXCLUSION_CASE = _with(
    "query($id: ID, $source: ID) { exclusionCase(id: $id, sourceId: $source) { ...CaseFields } }", CASE
)
EXCLUSION_CASES = _with(
    "query($undecided: Boolean!, $first: Int) { exclusionCases(undecided: $undecided, first: $first) "
    "{ nodes { ...CaseFields } } }",
    CASE,
)
EXCLUSION_RECEIPT = "query($id: ID!) { exclusionReceipt(caseId: $id) }"

MODELS_USING_SOURCE = _with(
    "query($sourceId: ID!, $stage: Stage, $asOf: DateTime, $maxDepth: Int, $first: Int, $after: String, "
    "$knownAt: DateTime) { modelsUsingSource(sourceId: $sourceId, stage: $stage, asOf: $asOf, maxDepth: $maxDepth, "
    "first: $first, after: $after, knownAt: $knownAt) { totalCount pageInfo { hasNextPage endCursor } items { stage "
    "modelVersion { ...ModelVersionFields } deployments { ...DeploymentFields } paths { nodeIds edgeTypes } } } }",
    MODEL_VERSION,
    DEPLOYMENT,
)
TRACE_INFERENCE = _with(
    "query($id: ID!) { traceInference(inferenceId: $id) { inference { ...InferenceFields } "
    "deployment { ...DeploymentFields } modelVersion { ...ModelVersionFields } "
    "fineTuneChain { ...ModelVersionFields } runs { ...RunFields } datasetVersions { ...DatasetVersionFields } "
    "slices { ...SliceFields } sources { ...SourceFields } edges { type fromId toId role } } }",
    INFERENCE,
    DEPLOYMENT,
    MODEL_VERSION,
    RUN,
    DATASET_VERSION,
    SLICE,
    SOURCE,
)
# In a union selection, fields with one name must have one type: Source.kind (String) clashes with
# Run.kind (an enum), DatasetVersion.version (String) with ModelVersion.version (Int). Lineage asks for
# the first of each under another name (LINEAGE_RENAMES undoes it).
LINEAGE_SOURCE = "fragment LineageSourceFields on Source { id name sourceKind: kind uri owner license excludedAt exclusionReason }"
LINEAGE_DATASET_VERSION = DATASET_VERSION.replace(
    "DatasetVersionFields", "LineageDatasetVersionFields"
).replace(" version ", " datasetVersion: version ")
LINEAGE_RENAMES = {"sourceKind": "kind", "datasetVersion": "version"}
LINEAGE = _with(
    "query($nodeId: ID!, $direction: Direction, $maxDepth: Int, $types: [String!], $asOf: DateTime, $first: Int, "
    "$after: String, $knownAt: DateTime) { lineage(nodeId: $nodeId, direction: $direction, maxDepth: $maxDepth, "
    "types: $types, asOf: $asOf, first: $first, after: $after, knownAt: $knownAt) { totalCount isPartial pageInfo { hasNextPage endCursor } "
    "edges { type fromId toId role } nodes { __typename ...LineageSourceFields ...DatasetFields "
    "...LineageDatasetVersionFields "
    "...SliceFields ...ExperimentFields ...RunFields ...ModelFields ...ModelVersionFields ...EndpointFields "
    "...DeploymentFields ...InferenceFields } } }",
    LINEAGE_SOURCE,
    DATASET,
    LINEAGE_DATASET_VERSION,
    SLICE,
    EXPERIMENT,
    RUN,
    MODEL,
    MODEL_VERSION,
    ENDPOINT,
    DEPLOYMENT,
    INFERENCE,
)
IMPACT_REPORT = _with(
    "query($sourceId: ID!, $asOf: DateTime, $knownAt: DateTime) "
    "{ impactReport(sourceId: $sourceId, asOf: $asOf, knownAt: $knownAt) { "
    "source { ...SourceFields } asOf datasetVersions { ...DatasetVersionFields } slices { ...SliceFields } "
    "runs { ...RunFields } modelVersions { stage inferences modelVersion { ...ModelVersionFields } "
    "liveDeployments { ...DeploymentFields } } inferences isPartial firstUsedAt } }",
    SOURCE,
    DATASET_VERSION,
    SLICE,
    RUN,
    MODEL_VERSION,
    DEPLOYMENT,
)
DEPLOYED_AT = _with(
    "query($endpoint: String!, $at: DateTime, $knownAt: DateTime) "
    "{ deployedAt(endpoint: $endpoint, at: $at, knownAt: $knownAt) { ...DeploymentFields } }",
    DEPLOYMENT,
)
CONSUMERS = _with(
    "query($id: ID!) { consumers(datasetVersionId: $id) { runs { direct run { ...RunFields } } "
    "modelVersions { ...ModelVersionFields } deployments { ...DeploymentFields } endpoints { ...EndpointFields } } }",
    RUN,
    MODEL_VERSION,
    DEPLOYMENT,
    ENDPOINT,
)
RUN_QUERY = _with("query($id: ID!) { run(id: $id) { ...RunDetailFields } }", RUN_DETAIL)
MODEL_VERSION_QUERY = _with(
    "query($id: ID!) { modelVersion(id: $id) { ...ModelVersionFields } }", MODEL_VERSION
)
HISTORY = _with("query($id: ID!) { modelVersion(id: $id) { history { ...EventFields } } }", EVENT)
MODEL_HISTORY = _with(
    "query($id: ID!, $first: Int, $after: String) { model(id: $id) { history(first: $first, after: $after) "
    "{ ...EventFields } } }",
    EVENT,
)
VERIFY_AUDIT = (
    "query($model: String, $against: String) { verifyAuditChain(model: $model, against: $against) { valid "
    "models events entries facts sealed checkpointTakenAt breaks { chain modelId seq eventId problem } } }"
)
COMPARE = (
    "query($id: ID!, $other: ID!) { modelVersion(id: $id) { compare(other: $other) { otherId dataOnlyHere "
    "dataOnlyThere dataInBoth params { key this other } metrics { key this other } code { key this other } "
    "environment { key this other } } } }"
)
RECORD_PROVENANCE = _with(
    "query($keyHash: String!, $asOf: DateTime, $knownAt: DateTime, $maxDepth: Int) { recordProvenance("
    "keyHash: $keyHash, asOf: $asOf, knownAt: $knownAt, maxDepth: $maxDepth) { keyHash asOf inferences "
    "holders { dataId certainty basis sourceId falsePositiveRate via } stopped { dataId derivedFrom } "
    "runs { runId certainty dataIds } modelVersions { stage certainty runIds inferences "
    "modelVersion { ...ModelVersionFields } liveDeployments { ...DeploymentFields } } } }",
    MODEL_VERSION,
    DEPLOYMENT,
)
DECLARE_KEY_PRESERVING_TRANSFORM = (
    "mutation($id: ID!, $transform: String!) { declareKeyPreservingTransform(datasetVersionId: $id, "
    "transform: $transform) { datasetVersionId transform declaredAt created } }"
)
