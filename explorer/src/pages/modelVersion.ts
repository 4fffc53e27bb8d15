// Model version: its stage/alias timeline (registry events: who, when, why), its deployments per endpoint
// as timelines, and a side-by-side comparison with another version. One request.

import { gql } from "../api";
import { facts, h, when } from "../dom";
import { endpointTimeline, type Deployment } from "../deployments";
import { nameOf } from "../kinds";
import type { Page } from "../main";
import { FIELDS, type GNodeData } from "../queries";
import { go, href, type Route } from "../router";
import { field, loading } from "../ui";

const DETAILS = `__typename ${FIELDS.ModelVersion} metrics { key value } tags description inferenceCount`;
const MODEL_VERSION = `query ModelVersion($id: ID!, $other: ID!, $withCompare: Boolean!) {
  modelVersion(id: $id) {
    ${DETAILS}
    model { id name versions(first: 100) { id number: version stage } history(first: 200) { id seq kind modelVersionId at actor reason fromStage toStage alias previousVersionId } }
    deployments(first: 20) {
      endpoint { id name environment deployments(first: 100) { id modelVersionId startedAt endedAt trafficShare reason endReason } }
    }
    compare(other: $other) @include(if: $withCompare) {
      otherId
      params { key this other } metrics { key this other } code { key this other } environment { key this other }
      dataOnlyHere(first: 100) dataOnlyThere(first: 100) dataInBoth(first: 100)
    }
  }
  other: modelVersion(id: $other) @include(if: $withCompare) { ${DETAILS} }
}`;

interface RegistryEvent {
  id: string;
  seq: number;
  kind: string;
  modelVersionId: string;
  at: string;
  actor: string;
  reason: string | null;
  fromStage: string | null;
  toStage: string | null;
  alias: string | null;
  previousVersionId: string | null;
}
type Change = { key: string; this: string | null; other: string | null };
interface Comparison {
  otherId: string;
  params: Change[];
  metrics: Change[];
  code: Change[];
  environment: Change[];
  dataOnlyHere: string[];
  dataOnlyThere: string[];
  dataInBoth: string[];
}
type Version = GNodeData & { metrics: { key: string; value: number }[]; tags: string[]; inferenceCount: number };
interface Answer {
  modelVersion: Version & {
    model: { id: string; name: string; versions: { id: string; number: number; stage: string }[]; history: RegistryEvent[] };
    deployments: { endpoint: { id: string; name: string; environment: string; deployments: Deployment[] } }[];
    compare?: Comparison;
  };
  other?: Version;
}

export const modelVersionPage: Page = async (root: HTMLElement, route: Route) => {
  const id = route.id;
  const compareWith = route.params.get("compare");
  const idInput = h("input", { name: "modelVersionId", value: id, placeholder: "modelVersion:sentiment:2", size: 34, "aria-label": "Model version id" });
  const form = h("form", { class: "controls" }, h("h1", null, "Model version"), h("div", { class: "row" }, field("Model version", idInput), h("button", { type: "submit" }, "Open")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(href("model-version", idInput.value.trim()));
  });
  root.append(form);
  if (!id) {
    root.append(h("p", { class: "muted" }, "Give a model version id, or ", h("a", { href: href("search", "", { kinds: "ModelVersion" }) }, "search"), " for one."));
    return;
  }
  root.append(loading("the model version"));
  const data = await gql<Answer>(MODEL_VERSION, { id, other: compareWith || id, withCompare: Boolean(compareWith) });
  root.querySelector(".loading")?.remove();
  const mv = data.modelVersion;

  root.append(
    h(
      "section",
      { class: "version-head" },
      h("h2", null, nameOf(mv.id), " ", h("span", { class: `stage stage-${String(mv.stage).toLowerCase()}` }, String(mv.stage)), (mv.aliases as string[]).map((a) => h("span", { class: "tag alias" }, `@${a}`))),
      facts([
        ["model", mv.model.name],
        ["created", when(mv.createdAt as string)],
        ["framework", mv.framework as string],
        ["artifact", h("code", null, String(mv.artifactUri))],
        ["metrics", mv.metrics.map((m) => `${m.key} ${m.value}`).join(", ")],
        ["trained by", mv.trainedById ? h("a", { href: href("lineage", String(mv.trainedById)) }, String(mv.trainedById)) : null],
        ["fine-tuned from", mv.fineTunedFromId ? h("a", { href: href("model-version", String(mv.fineTunedFromId)) }, nameOf(String(mv.fineTunedFromId))) : null],
        ["inferences logged", mv.inferenceCount.toLocaleString("en")],
      ]),
      h("p", { class: "links" }, h("a", { href: href("lineage", mv.id) }, "Lineage"), h("a", { href: href("lineage", mv.id, { direction: "DOWNSTREAM" }) }, "What it affected")),
    ),
    h("h2", null, "Stage and aliases over time"),
    registryTimeline(mv.id, mv.model.history),
    h("h2", null, "Deployments, per endpoint"),
    deploymentsSection(mv),
    h("h2", null, "Compare with another version"),
    compareSection(mv, data.other, compareWith),
  );
};

/** This version's registry events, and alias moves away from it, oldest first. */
function registryTimeline(id: string, history: RegistryEvent[]): HTMLElement {
  const events = history
    .filter((e) => e.modelVersionId === id || e.previousVersionId === id)
    .sort((a, b) => a.at.localeCompare(b.at) || a.seq - b.seq);
  if (!events.length) return h("p", { class: "muted" }, "No registry events.");
  return h(
    "ol",
    { class: "registry-timeline" },
    events.map((e) =>
      h(
        "li",
        { "data-kind": e.kind, "data-seq": e.seq },
        h("time", { datetime: e.at }, when(e.at)),
        h("span", { class: "what" }, describe(e, id)),
        h("span", { class: "who" }, `by ${e.actor}`),
        e.reason && h("span", { class: "why" }, `“${e.reason}”`),
      ),
    ),
  );
}

function describe(e: RegistryEvent, id: string): string {
  switch (e.kind) {
    case "REGISTERED":
      return "registered";
    case "STAGE_CHANGED":
      return `stage ${e.fromStage ?? "?"} → ${e.toStage ?? "?"}`;
    case "ALIAS_SET":
      if (e.modelVersionId !== id) return `alias @${e.alias} moved to ${nameOf(e.modelVersionId)}`;
      return `alias @${e.alias} set${e.previousVersionId ? ` (moved from ${nameOf(e.previousVersionId)})` : ""}`;
    case "ALIAS_REMOVED":
      return `alias @${e.alias} removed`;
    default:
      return e.kind;
  }
}

function deploymentsSection(mv: Answer["modelVersion"]): HTMLElement {
  const endpoints = new Map<string, Answer["modelVersion"]["deployments"][number]["endpoint"]>();
  for (const d of mv.deployments) endpoints.set(d.endpoint.id, d.endpoint);
  if (!endpoints.size) return h("p", { class: "muted" }, "Never deployed.");
  return h(
    "div",
    { class: "endpoints" },
    [...endpoints.values()].map((e) => endpointTimeline(e, e.deployments, mv.id)),
    h("p", { class: "muted legend-note" }, "Bar height is the share of traffic; this version's bars are dark; canaries and rollbacks are marked."),
  );
}

function compareSection(mv: Answer["modelVersion"], other: Version | undefined, compareWith: string | null): HTMLElement {
  const choices = mv.model.versions.filter((v) => v.id !== mv.id);
  const chooser = h(
    "select",
    { name: "compare", "aria-label": "Compare with" },
    h("option", { value: "" }, "choose a version…"),
    choices.map((v) => h("option", { value: v.id, selected: v.id === compareWith }, `${nameOf(v.id)} (${v.stage})`)),
  );
  const free = h("input", { name: "compareId", placeholder: "or any model version id", value: compareWith && !choices.some((c) => c.id === compareWith) ? compareWith : "", size: 30 });
  const form = h("form", { class: "row compare-form" }, field("Compare with", chooser), free, h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(href("model-version", mv.id, { compare: free.value.trim() || chooser.value }));
  });
  chooser.addEventListener("change", () => go(href("model-version", mv.id, { compare: chooser.value })));
  const c = mv.compare;
  if (!c || !other) return h("div", null, form);
  const metricKeys = [...new Set([...mv.metrics, ...other.metrics].map((m) => m.key))].sort();
  const metric = (v: Version, key: string) => v.metrics.find((m) => m.key === key)?.value?.toString() ?? "—";
  const rows: [string, string, string, string][] = [
    ["registry", "stage", String(mv.stage), String(other.stage)],
    ["registry", "created", when(mv.createdAt as string), when(other.createdAt as string)],
    ["registry", "framework", String(mv.framework ?? "—"), String(other.framework ?? "—")],
    ["registry", "trained by", String(mv.trainedById ?? "—"), String(other.trainedById ?? "—")],
    ...metricKeys.map((k): [string, string, string, string] => ["metric", k, metric(mv, k), metric(other, k)]),
  ];
  for (const [group, changes] of [["parameter", c.params], ["code", c.code], ["environment", c.environment]] as const) {
    for (const ch of changes) rows.push([group, ch.key, ch.this ?? "—", ch.other ?? "—"]);
  }
  return h(
    "div",
    null,
    form,
    h(
      "table",
      { class: "listing compare" },
      h("thead", null, h("tr", null, h("th", null, ""), h("th", null, ""), h("th", null, nameOf(mv.id)), h("th", null, nameOf(other.id)))),
      h(
        "tbody",
        null,
        rows.map(([group, key, a, b]) => h("tr", { class: a === b ? "same" : "differs", "data-key": `${group}:${key}` }, h("td", { class: "muted" }, group), h("th", null, key), h("td", null, a), h("td", null, b))),
      ),
    ),
    h(
      "div",
      { class: "data-compare" },
      dataList(`Data only ${nameOf(mv.id)} used`, c.dataOnlyHere, "only-here"),
      dataList(`Data only ${nameOf(other.id)} used`, c.dataOnlyThere, "only-there"),
      dataList("Data both used", c.dataInBoth, "both"),
    ),
    h("p", { class: "muted" }, "Parameters, code and environment list only what differs; equal values are left out by the API."),
  );
}

function dataList(title: string, ids: string[], name: string): HTMLElement {
  return h("section", { class: `data ${name}` }, h("h4", null, title), ids.length ? h("ul", null, ids.map((i) => h("li", null, h("a", { href: href("lineage", i) }, i)))) : h("p", { class: "muted" }, "none"));
}
