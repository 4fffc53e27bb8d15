// The GraphQL documents the explorer sends. Node fields are scalars only (cheap under the cost budget:
// objects cost, scalars do not); a node's lists (params, metrics, inputs) are fetched when it is selected.
// Fields that differ in type between node types (`kind`, `version`) are aliased, as GraphQL requires.

/** Each node type's scalar fields. */
export const FIELDS: Record<string, string> = {
  Source: "id name sourceKind: kind uri owner license description excludedAt exclusionReason recordedAt recordedBy",
  Dataset: "id name description owner recordedAt recordedBy",
  DatasetVersion: "id datasetId dataVersion: version digest uri rowCount createdAt sourceIds generatedById recordedAt recordedBy",
  Slice: "id datasetVersionId name predicate rowCount digest createdAt sourceIds recordedAt recordedBy",
  Experiment: "id name description recordedAt recordedBy",
  Run: "id key runKind: kind status startedAt endedAt experimentId parentRunId recordedAt recordedBy",
  Model: "id name description owner recordedAt recordedBy",
  ModelVersion: "id modelId number: version stage aliases framework artifactUri sizeBytes createdAt trainedById fineTunedFromId recordedAt recordedBy",
  Endpoint: "id name environment description recordedAt recordedBy",
  Deployment: "id endpointId modelVersionId startedAt endedAt trafficShare reason endReason recordedAt recordedBy",
  Inference: "id at modelVersionId deploymentId inputDigest outputDigest latencyMs recordedAt recordedBy",
};

/** A ProvenanceNode (union) selection: the type name and every member's scalar fields. */
export const NODE_FIELDS = "__typename " + Object.entries(FIELDS).map(([kind, f]) => `... on ${kind} { ${f} }`).join(" ");

/** A node as the lineage, search and trace queries return it: its type name and scalar fields. */
export interface GNodeData {
  __typename: string;
  id: string;
  [field: string]: unknown;
}

export interface GEdgeData {
  type: string;
  fromId: string;
  toId: string;
  role?: string | null;
  transform?: string | null;
}

export const EDGE_FIELDS = "type fromId toId role transform";

/** The lists a selected node has beyond its scalars, per type. */
export const DETAIL_FIELDS: Record<string, string> = {
  Run: `params { key value } metrics { key value } code { repo commit entrypoint dirty }
        environment { imageDigest python framework frameworkVersion packages }
        inputs { id role } outputIds`,
  ModelVersion: "metrics { key value } tags description inferenceCount",
  DatasetVersion: "schema derivedFrom { fromId transform }",
};
