// The side panel: everything the API says about the selected node, with links to the pages about it.

import { gql } from "./api";
import { day, facts, h, when } from "./dom";
import { isExcluded, stageOf } from "./graph";
import { nameOf, ROOT_FIELD, type Kind } from "./kinds";
import { DETAIL_FIELDS, FIELDS, type GNodeData } from "./queries";
import { href } from "./router";
import { errorBox } from "./ui";

const HIDDEN = new Set(["__typename", "id", "asOfState"]);
const TIMES = /(At|^at)$/;

export interface PanelOptions {
  asOf?: string | null;
  onExpand?: (node: GNodeData) => void;
}

export function nodePanel(node: GNodeData, options: PanelOptions = {}): HTMLElement {
  const kind = node.__typename as Kind;
  const title = typeof node.name === "string" && kind !== "Slice" ? node.name : nameOf(node.id);
  const marks: HTMLElement[] = [];
  if (isExcluded(node, options.asOf)) {
    marks.push(h("p", { class: "mark excluded" }, `Excluded ${day(node.excludedAt as string)}: ${String(node.exclusionReason ?? "")}`));
  }
  const stage = stageOf(node);
  if (kind === "ModelVersion" && stage) {
    marks.push(h("p", { class: `mark stage-${stage.toLowerCase()}` }, `Stage ${stage}${node.asOfState ? " (as of the date shown)" : ""}`));
  }
  const links = h(
    "p",
    { class: "links" },
    h("a", { href: href("lineage", node.id) }, "Lineage from here"),
    kind === "ModelVersion" && h("a", { href: href("model-version", node.id) }, "Model version page"),
    kind === "Source" && h("a", { href: href("uses", node.id) }, "Models using it"),
    kind === "Source" && h("a", { href: href("impact", node.id) }, "Impact report"),
    kind === "Inference" && h("a", { href: href("trace", node.id) }, "Trace"),
  );
  const details = h("div", { class: "details" });
  const panel = h(
    "aside",
    { class: "panel", "data-node": node.id },
    h("p", { class: "kind" }, kind),
    h("h3", null, title),
    h("p", { class: "id" }, h("code", null, node.id)),
    marks,
    options.onExpand && h("button", { type: "button", class: "expand", onclick: () => options.onExpand?.(node) }, "Expand: show its neighbours"),
    links,
    details,
  );
  const known = factsOf(node);
  details.before(known);
  // A node drawn from an id alone (an explaining path's step) gets its facts fetched; some types have lists.
  const sparse = Object.keys(node).filter((k) => !HIDDEN.has(k) && k !== "stage").length === 0;
  if (ROOT_FIELD[kind] && (sparse || DETAIL_FIELDS[kind])) void loadDetails(node.id, kind, sparse, known, details);
  return panel;
}

function factsOf(node: Record<string, unknown>): HTMLDListElement {
  const rows: [string, string][] = [];
  for (const [key, value] of Object.entries(node)) {
    if (HIDDEN.has(key) || value === null || value === undefined) continue;
    if (Array.isArray(value)) rows.push([key, value.join(", ")]);
    else rows.push([key, TIMES.test(key) ? when(String(value)) : String(value)]);
  }
  return facts(rows);
}

interface Detail {
  params?: { key: string; value: string }[];
  metrics?: { key: string; value: number }[];
  code?: Record<string, unknown>;
  environment?: Record<string, unknown> & { packages?: string[] };
  inputs?: { id: string; role: string }[];
  outputIds?: string[];
  tags?: string[];
  description?: string | null;
  inferenceCount?: number;
  schema?: string | null;
  derivedFrom?: { fromId: string; transform: string | null }[];
}

async function loadDetails(id: string, kind: Kind, sparse: boolean, known: HTMLElement, into: HTMLElement): Promise<void> {
  into.append(h("p", { class: "muted" }, "Loading details…"));
  const fields = `${sparse ? FIELDS[kind] : ""} ${DETAIL_FIELDS[kind] ?? ""}`;
  try {
    const data = await gql<{ node: Detail & Record<string, unknown> }>(
      `query($id: ID!) { node: ${ROOT_FIELD[kind]}(id: $id) { ${fields} } }`,
      { id },
    );
    if (sparse) {
      const scalars = Object.fromEntries(Object.entries(data.node).filter(
          ([, v]) => v === null || typeof v !== "object" || (Array.isArray(v) && v.every((x) => typeof x !== "object")),
        ));
      known.replaceWith(factsOf(scalars));
    }
    into.replaceChildren(...detailBlocks(data.node));
  } catch (exc) {
    into.replaceChildren(errorBox(exc));
  }
}

function detailBlocks(d: Detail): HTMLElement[] {
  const blocks: HTMLElement[] = [];
  const table = (title: string, rows: [string, string][]) =>
    rows.length &&
    blocks.push(
      h("h4", null, title),
      h("table", { class: "kv" }, h("tbody", null, rows.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v))))),
    );
  if (d.params) table("Parameters", d.params.map((p) => [p.key, p.value]));
  if (d.metrics) table("Metrics", d.metrics.map((m) => [m.key, String(m.value)]));
  if (d.code) table("Code", entries(d.code));
  if (d.environment) table("Environment", entries(d.environment));
  if (d.inputs) table("Inputs", d.inputs.map((i) => [i.role, i.id]));
  if (d.outputIds) table("Outputs", d.outputIds.map((o) => ["", o]));
  if (d.derivedFrom) table("Derived from", d.derivedFrom.map((x) => [x.transform ?? "", x.fromId]));
  if (d.tags?.length || d.inferenceCount !== undefined) {
    table("Registry", [
      ["tags", (d.tags ?? []).join(", ")],
      ["inferences logged", String(d.inferenceCount ?? "")],
    ]);
  }
  if (d.schema) blocks.push(h("h4", null, "Schema"), h("pre", null, d.schema));
  return blocks;
}

function entries(o: Record<string, unknown>): [string, string][] {
  return Object.entries(o)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]);
}
