// Lineage: an interactive layered graph around a node (`lineage`), a page of 500 nodes per request.

import { gql } from "../api";
import { h } from "../dom";
import { GraphView } from "../graph";
import { KINDS, kindOf, ROOT_FIELD } from "../kinds";
import { failed, type Page } from "../main";
import { nodePanel } from "../panel";
import { EDGE_FIELDS, FIELDS, NODE_FIELDS, type GEdgeData, type GNodeData } from "../queries";
import { asOfTime, go, href, type Route } from "../router";
import { asOfInput, field, legend, loading, select } from "../ui";

const PAGE = 500;
// Pages fetched before drawing; a larger lineage is drawn in part, with a button for the rest.
const FIRST_DRAW = 2_000;

interface LineagePageData {
  totalCount: number;
  isPartial: boolean;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: GNodeData[];
  edges: GEdgeData[];
}

// With an asOf, a model version's stage is the one it had then (`stateAt`), not today's.
const STATE = "... on ModelVersion { asOfState: stateAt(at: $at) @include(if: $historic) { stage aliases } }";

function lineageQuery(startField: string | null): string {
  // GraphQL refuses declared variables that are not used: $withStart only goes with the start's field.
  return `query Lineage($id: ID!, $direction: Direction!, $depth: Int, $types: [String!], $asOf: DateTime,
      $after: String, $historic: Boolean!, $at: DateTime!${startField ? ", $withStart: Boolean!" : ""}) {
    lineage(nodeId: $id, direction: $direction, maxDepth: $depth, types: $types, asOf: $asOf, first: ${PAGE}, after: $after) {
      totalCount isPartial pageInfo { hasNextPage endCursor }
      nodes { ${NODE_FIELDS} ${STATE} }
      edges { ${EDGE_FIELDS} }
    }
    ${startField ?? ""}
  }`;
}

/** The start node is not among the lineage's nodes; it is fetched in the same request by its own type. */
function startSelection(id: string): string | null {
  const kind = kindOf(id);
  const root = kind && ROOT_FIELD[kind];
  if (!kind || !root) return null;
  const state = kind === "ModelVersion" ? "asOfState: stateAt(at: $at) @include(if: $historic) { stage aliases }" : "";
  return `start: ${root}(id: $id) @include(if: $withStart) { __typename ${FIELDS[kind]} ${state} }`;
}

export const lineagePage: Page = async (root: HTMLElement, route: Route, leave) => {
  const p = route.params;
  const id = route.id;
  const direction = p.get("direction") ?? "UPSTREAM";
  const depth = p.get("depth") ?? "3";
  const types = (p.get("types") ?? "").split(",").filter(Boolean);
  const asOf = p.get("asOf");
  const at = asOfTime(asOf);

  const idInput = h("input", { name: "nodeId", value: id, placeholder: "modelVersion:sentiment:2", size: 34, "aria-label": "Node id" });
  const directionSelect = select("direction", [["UPSTREAM", "upstream (where it came from)"], ["DOWNSTREAM", "downstream (what it affected)"], ["BOTH", "both"]], direction);
  const depthInput = h("input", { type: "number", name: "depth", min: 1, max: 25, value: depth, style: "width:4em" });
  const dateInput = asOfInput(asOf);
  const boxes = KINDS.map((k) => h("input", { type: "checkbox", name: "types", value: k, checked: types.includes(k) }));
  const form = h(
    "form",
    { class: "controls" },
    h("h1", null, "Lineage"),
    h(
      "div",
      { class: "row" },
      field("Node", idInput),
      field("Direction", directionSelect),
      field("Depth", depthInput),
      field("As of", dateInput),
      h("button", { type: "submit" }, "Show"),
    ),
    h("details", { class: "kinds", open: types.length > 0 }, h("summary", null, types.length ? `Types: ${types.join(", ")}` : "Types: all"), KINDS.map((k, i) => h("label", null, boxes[i], k))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(
      href("lineage", idInput.value.trim(), {
        direction: directionSelect.value,
        depth: depthInput.value,
        types: boxes.filter((b) => b.checked).map((b) => b.value).join(","),
        asOf: dateInput.value,
      }),
    );
  });
  root.append(form);
  if (!id) {
    root.append(h("p", { class: "muted" }, "Give a node id, or ", h("a", { href: "#/search" }, "search"), " for one."));
    return;
  }

  const status = h("div", { class: "status", "aria-live": "polite" });
  const canvas = h("div", { class: "graph", id: "graph" });
  const side = h("div", { class: "side" }, h("p", { class: "muted" }, "Click a node for its properties; double-click (or Expand) to show its neighbours."));
  root.append(status, h("div", { class: "graph-page" }, h("div", { class: "graph-wrap" }, canvas, legend()), side));

  const base = {
    id,
    direction,
    depth: Number(depth) || null,
    types: types.length ? types : null,
    asOf: at,
    historic: Boolean(at),
    at: at ?? new Date().toISOString(),
  };
  const view = new GraphView(canvas, {
    onSelect: (node) => side.replaceChildren(node ? nodePanel(node, { asOf: at, onExpand: expand }) : ""),
    onExpand: (node) => void expand(node),
  });
  leave(() => view.destroy());

  async function expand(node: GNodeData): Promise<void> {
    status.replaceChildren(loading(`the neighbours of ${node.id}`));
    try {
      const data = await gql<{ lineage: LineagePageData }>(lineageQuery(null), {
        ...base,
        id: node.id,
        direction: "BOTH",
        depth: 1,
        after: null,
      });
      const added = view.merge(data.lineage.nodes, data.lineage.edges);
      view.markExpanded(node.id);
      view.select(node.id);
      status.replaceChildren(summary(view, total, partial), h("span", { class: "note" }, ` Expanded ${node.id}: ${added} new node${added === 1 ? "" : "s"}.`));
    } catch (exc) {
      failed(status, exc);
    }
  }

  status.replaceChildren(loading("the lineage"));
  const nodes: GNodeData[] = [];
  const edges: GEdgeData[] = [];
  let total = 0;
  let partial = false;
  let cursor: string | null = null;
  let more = false;
  const fetchPages = async (limit: number): Promise<void> => {
    do {
      const first: boolean = nodes.length === 0 && cursor === null;
      const start = startSelection(id);
      const data: { lineage: LineagePageData; start?: GNodeData } = await gql(lineageQuery(start), {
        ...base,
        after: cursor,
        ...(start ? { withStart: first } : {}),
      });
      if (first) nodes.push(data.start ?? { __typename: kindOf(id) ?? "Node", id });
      nodes.push(...data.lineage.nodes);
      edges.push(...data.lineage.edges);
      total = data.lineage.totalCount;
      partial = data.lineage.isPartial;
      cursor = data.lineage.pageInfo.endCursor;
      more = data.lineage.pageInfo.hasNextPage;
    } while (more && nodes.length < limit);
  };
  await fetchPages(FIRST_DRAW);
  view.draw(nodes, edges, { start: [id], asOf: at });
  const showStatus = () => {
    const items: (HTMLElement | string)[] = [summary(view, total, partial)];
    if (more) {
      const rest = h("button", { type: "button", class: "more" }, `Load the rest (${total - (nodes.length - 1)} more)`);
      rest.addEventListener("click", async () => {
        status.replaceChildren(loading("the rest of the lineage"));
        try {
          await fetchPages(Infinity);
          view.draw(nodes, edges, { start: [id], asOf: at });
          showStatus();
        } catch (exc) {
          failed(status, exc);
        }
      });
      items.push(h("span", { class: "note" }, ` Showing ${nodes.length - 1} of ${total}.`), rest);
    }
    status.replaceChildren(...items);
  };
  showStatus();
  view.select(id);
};

function summary(view: GraphView, total: number, partial: boolean): HTMLElement {
  return h(
    "span",
    { class: "summary" },
    `${view.nodes.size} nodes, ${view.edges.size} edges (the lineage holds ${total} besides the start).`,
    partial &&
      h("strong", { class: "partial", title: "isPartial: maxDepth or the service's size limit cut the subgraph" }, " Partial: the depth or size limit cut this graph."),
  );
}
