// Uses of a source: `modelsUsingSource` with stage and asOf; each answer's explaining paths highlighted.

import { gql } from "../api";
import { day, facts, h } from "../dom";
import { edgeKey, GraphView } from "../graph";
import { kindOf, nameOf } from "../kinds";
import type { Page } from "../main";
import { nodePanel } from "../panel";
import { FIELDS, type GEdgeData, type GNodeData } from "../queries";
import { asOfTime, go, href, type Route } from "../router";
import { asOfInput, field, legend, loading, select } from "../ui";

const STAGES: [string, string][] = [["", "any stage"], ["PRODUCTION", "PRODUCTION"], ["STAGING", "STAGING"], ["NONE", "NONE"], ["ARCHIVED", "ARCHIVED"]];

const USES = `query Uses($id: ID!, $stage: Stage, $asOf: DateTime) {
  source(id: $id) { __typename ${FIELDS.Source} }
  modelsUsingSource(sourceId: $id, stage: $stage, asOf: $asOf, first: 100, maxPaths: 3) {
    totalCount pageInfo { hasNextPage }
    items {
      modelVersion { __typename ${FIELDS.ModelVersion} }
      stage
      deployments { id endpointId trafficShare startedAt }
      paths { nodeIds edgeTypes }
    }
  }
}`;

interface SourceUse {
  modelVersion: GNodeData;
  stage: string;
  deployments: { id: string; endpointId: string; trafficShare: number; startedAt: string }[];
  paths: { nodeIds: string[]; edgeTypes: string[] }[];
}

export const usesPage: Page = async (root: HTMLElement, route: Route, leave) => {
  const id = route.id;
  const stage = route.params.get("stage");
  const asOf = route.params.get("asOf");
  const idInput = h("input", { name: "sourceId", value: id, placeholder: "source:forum-scrape", size: 30, "aria-label": "Source id" });
  const stageSelect = select("stage", STAGES, stage);
  const dateInput = asOfInput(asOf);
  const form = h(
    "form",
    { class: "controls" },
    h("h1", null, "Which model versions used a source?"),
    h("div", { class: "row" }, field("Source", idInput), field("Stage", stageSelect), field("As of", dateInput), h("button", { type: "submit" }, "Ask")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(href("uses", idInput.value.trim(), { stage: stageSelect.value, asOf: dateInput.value }));
  });
  root.append(form);
  if (!id) {
    root.append(h("p", { class: "muted" }, "Give a source id, or ", h("a", { href: href("search", "", { kinds: "Source" }) }, "search"), " for one."));
    return;
  }
  root.append(loading("the answers"));
  const at = asOfTime(asOf);
  const data = await gql<{ source: GNodeData; modelsUsingSource: { totalCount: number; pageInfo: { hasNextPage: boolean }; items: SourceUse[] } }>(
    USES,
    { id, stage: stage || null, asOf: at },
  );
  root.querySelector(".loading")?.remove();
  const uses = data.modelsUsingSource;
  const headline = h(
    "p",
    { class: "headline" },
    `${uses.totalCount} model version${uses.totalCount === 1 ? "" : "s"}${stage ? ` in ${stage}` : ""} ${at ? `as of ${day(at)}` : "now"} used data from `,
    h("strong", null, String(data.source.name)),
    data.source.excludedAt ? h("span", { class: "mark excluded inline" }, ` excluded ${day(data.source.excludedAt as string)}`) : "",
    ".",
    uses.pageInfo.hasNextPage ? ` The first ${uses.items.length} are shown.` : "",
  );
  root.append(headline);
  if (!uses.items.length) {
    root.append(h("p", { class: "empty" }, "No model version's lineage reaches this source (with these filters)."));
    return;
  }

  // The picture is every explaining path together; choosing an answer highlights its own paths.
  const nodes = new Map<string, GNodeData>([[data.source.id, data.source]]);
  const edges = new Map<string, GEdgeData>();
  for (const use of uses.items) {
    nodes.set(use.modelVersion.id, { ...use.modelVersion, stage: use.stage });
    for (const path of use.paths) {
      path.nodeIds.forEach((nodeId, i) => {
        if (!nodes.has(nodeId)) nodes.set(nodeId, { __typename: kindOf(nodeId) ?? "Node", id: nodeId });
        if (i > 0) {
          const e = { type: path.edgeTypes[i - 1], fromId: path.nodeIds[i - 1], toId: nodeId };
          edges.set(edgeKey(e), e);
        }
      });
    }
  }
  const canvas = h("div", { class: "graph", id: "graph" });
  const side = h("div", { class: "side" });
  const list = h("ol", { class: "answers" });
  root.append(h("div", { class: "graph-page" }, h("div", { class: "answers-wrap" }, list), h("div", { class: "graph-wrap" }, canvas, legend()), side));
  const view = new GraphView(canvas, { onSelect: (node) => side.replaceChildren(node ? nodePanel(node, { asOf: at }) : "") });
  leave(() => view.destroy());
  view.draw([...nodes.values()], [...edges.values()], { start: [data.source.id], asOf: at });

  const choose = (use: SourceUse, item: HTMLElement) => {
    list.querySelectorAll("li").forEach((li) => li.classList.remove("chosen"));
    item.classList.add("chosen");
    const onPath = new Set<string>();
    const keys: string[] = [];
    for (const path of use.paths) {
      path.nodeIds.forEach((nodeId, i) => {
        onPath.add(nodeId);
        if (i > 0) keys.push(edgeKey({ type: path.edgeTypes[i - 1], fromId: path.nodeIds[i - 1], toId: nodeId }));
      });
    }
    view.highlight(onPath, keys);
    side.replaceChildren(answerFacts(use));
    // The chosen answer is part of the shareable URL, without reloading the page.
    const url = href("uses", id, { stage, asOf, answer: use.modelVersion.id });
    history.replaceState(null, "", url);
  };
  const wanted = route.params.get("answer");
  const items: [SourceUse, HTMLElement][] = [];
  for (const use of uses.items) {
    const live = use.deployments.map((d) => `${nameOf(d.endpointId)} (${Math.round(d.trafficShare * 100)}%)`).join(", ");
    const item = h(
      "li",
      { "data-id": use.modelVersion.id, tabindex: 0 },
      h("strong", null, nameOf(use.modelVersion.id)),
      " ",
      h("span", { class: `stage stage-${use.stage.toLowerCase()}` }, use.stage),
      h("br"),
      h("span", { class: "muted" }, live ? `live on ${live}` : "not deployed then", ` · ${use.paths.length} path${use.paths.length === 1 ? "" : "s"}`),
    );
    item.addEventListener("click", () => choose(use, item));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter") choose(use, item);
    });
    list.append(item);
    items.push([use, item]);
  }
  choose(...(items.find(([use]) => use.modelVersion.id === wanted) ?? items[0]));
};

function answerFacts(use: SourceUse): HTMLElement {
  return h(
    "aside",
    { class: "panel", "data-node": use.modelVersion.id },
    h("p", { class: "kind" }, "Answer"),
    h("h3", null, nameOf(use.modelVersion.id)),
    facts([
      ["stage then", use.stage],
      ["live deployments", use.deployments.map((d) => `${d.id} (${Math.round(d.trafficShare * 100)}%)`).join(", ")],
    ]),
    h("h4", null, "Why: the explaining paths"),
    h(
      "ol",
      { class: "paths" },
      use.paths.map((p) =>
        h(
          "li",
          null,
          p.nodeIds.map((nodeId, i) => [i > 0 && h("span", { class: "edge-type" }, ` —${p.edgeTypes[i - 1]}→ `), h("code", null, nodeId)]),
        ),
      ),
    ),
    h(
      "p",
      { class: "links" },
      h("a", { href: href("model-version", use.modelVersion.id) }, "Model version page"),
      h("a", { href: href("lineage", use.modelVersion.id) }, "Its lineage"),
    ),
  );
}
