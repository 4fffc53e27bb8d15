// Search: find any node by name or id (`search`, backed by the service's full-text index).

import { gql } from "../api";
import { h } from "../dom";
import { KINDS, nameOf } from "../kinds";
import type { Page } from "../main";
import { NODE_FIELDS, type GNodeData } from "../queries";
import { go, href, type Route } from "../router";
import { loading } from "../ui";

const SEARCH = `query Search($text: String!, $kinds: [String!]) {
  search(text: $text, kinds: $kinds, first: 50) { score node { ${NODE_FIELDS} } }
}`;

export const searchPage: Page = async (root: HTMLElement, route: Route) => {
  const text = route.params.get("text") ?? "";
  const kinds = (route.params.get("kinds") ?? "").split(",").filter(Boolean);
  const input = h("input", { type: "search", name: "text", value: text, placeholder: "a name or an id, e.g. sentim 2", "aria-label": "Search text" });
  const boxes = KINDS.map((kind) => h("input", { type: "checkbox", name: "kinds", value: kind, checked: kinds.includes(kind) }));
  const form = h(
    "form",
    { class: "controls" },
    h("h1", null, "Search"),
    h("div", { class: "row" }, input, h("button", { type: "submit" }, "Search")),
    h("fieldset", { class: "kinds" }, h("legend", null, "Only these types (none: all)"), KINDS.map((k, i) => h("label", null, boxes[i], k))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    go(href("search", "", { text: input.value.trim(), kinds: chosen.join(",") }));
  });
  root.append(form);
  input.focus();
  if (!text) {
    root.append(h("p", { class: "muted" }, "Every word must start a word of the node's id, name, key, version, description or URI."));
    return;
  }
  root.append(loading("matches"));
  const data = await gql<{ search: { score: number; node: GNodeData }[] }>(SEARCH, { text, kinds: kinds.length ? kinds : null });
  root.querySelector(".loading")?.remove();
  if (!data.search.length) {
    root.append(h("p", { class: "empty" }, `Nothing matched “${text}”.`));
    return;
  }
  root.append(
    h(
      "table",
      { class: "results" },
      h("thead", null, h("tr", null, h("th", null, "Type"), h("th", null, "Name"), h("th", null, "Id"), h("th", null, "Open"))),
      h(
        "tbody",
        null,
        data.search.map(({ node }) =>
          h(
            "tr",
            { "data-id": node.id },
            h("td", null, h("span", { class: `badge k-${node.__typename}` }, node.__typename)),
            h("td", null, h("a", { href: href("lineage", node.id) }, displayName(node))),
            h("td", null, h("code", null, node.id)),
            h("td", { class: "open" }, openLinks(node)),
          ),
        ),
      ),
    ),
  );
};

function displayName(node: GNodeData): string {
  return typeof node.name === "string" && node.__typename !== "Slice" ? node.name : nameOf(node.id);
}

/** The pages that answer questions about a node of this type. */
export function openLinks(node: { __typename: string; id: string }): HTMLElement[] {
  const links = [h("a", { href: href("lineage", node.id) }, "lineage")];
  if (node.__typename === "ModelVersion") links.push(h("a", { href: href("model-version", node.id) }, "timeline & compare"));
  if (node.__typename === "Source") {
    links.push(h("a", { href: href("uses", node.id) }, "uses"), h("a", { href: href("impact", node.id) }, "impact"));
  }
  if (node.__typename === "Inference") links.push(h("a", { href: href("trace", node.id) }, "trace"));
  return links;
}
