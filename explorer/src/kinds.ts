// What an id says about its node: `datasetVersion:reviews:v3` is version v3 of dataset reviews. The same
// reading and colours as the server's DOT/Mermaid pictures (service/pictures.py), so both look alike.

export const KINDS = [
  "Source",
  "Dataset",
  "DatasetVersion",
  "Slice",
  "Experiment",
  "Run",
  "Model",
  "ModelVersion",
  "Endpoint",
  "Deployment",
  "Inference",
] as const;
export type Kind = (typeof KINDS)[number];

// Data in blues, runs in amber, models in green, serving in purple.
export const COLOURS: Record<Kind, string> = {
  Source: "#cfe2ff",
  Dataset: "#e7f1ff",
  DatasetVersion: "#e7f1ff",
  Slice: "#f1f7ff",
  Experiment: "#fff3cd",
  Run: "#ffe8a1",
  Model: "#d1e7dd",
  ModelVersion: "#a3cfbb",
  Endpoint: "#e2d9f3",
  Deployment: "#e2d9f3",
  Inference: "#f8f9fa",
};

export function kindOf(id: string): Kind | null {
  const prefix = id.split(":", 1)[0];
  const title = prefix.charAt(0).toUpperCase() + prefix.slice(1);
  return (KINDS as readonly string[]).includes(title) ? (title as Kind) : null;
}

/** A readable name: `modelVersion:sentiment:2` → `sentiment #2`, `slice:reviews:v3:train` → `reviews v3 / train`. */
export function nameOf(id: string): string {
  const [prefix, ...parts] = id.split(":");
  if ((prefix === "modelVersion" || prefix === "deployment") && parts.length === 2) return `${parts[0]} #${parts[1]}`;
  if (prefix === "slice" && parts.length === 3) return `${parts[0]} ${parts[1]} / ${parts[2]}`;
  return parts.join(" ") || id;
}

/** The root query that fetches one node by id, when the schema has one (experiments are listed only). */
export const ROOT_FIELD: Partial<Record<Kind, string>> = {
  Source: "source",
  Dataset: "dataset",
  DatasetVersion: "datasetVersion",
  Slice: "slice",
  Run: "run",
  Model: "model",
  ModelVersion: "modelVersion",
  Endpoint: "endpoint",
  Deployment: "deployment",
  Inference: "inference",
};
