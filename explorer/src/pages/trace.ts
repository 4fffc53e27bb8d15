// Trace an inference: inference → deployment → model version → runs → data → sources (`traceInference`).

import { gql } from "../api";
import { day, facts, h, when } from "../dom";
import { GraphView, isExcluded } from "../graph";
import { nameOf } from "../kinds";
import type { Page } from "../main";
import { nodePanel } from "../panel";
import { EDGE_FIELDS, FIELDS, type GEdgeData, type GNodeData } from "../queries";
import { go, href, type Route } from "../router";
import { field, legend, loading } from "../ui";

const LIST = 200;
const TRACE = `query Trace($id: ID!) {
  traceInference(inferenceId: $id) {
    inference { __typename ${FIELDS.Inference} }
    deployment { __typename ${FIELDS.Deployment} }
    modelVersion { __typename ${FIELDS.ModelVersion} }
    runCount datasetVersionCount sliceCount sourceCount edgeCount
    fineTuneChain { __typename ${FIELDS.ModelVersion} }
    runs(first: ${LIST}) {
      __typename ${FIELDS.Run}
      code { repo commit entrypoint dirty }
      environment { imageDigest python framework frameworkVersion }
    }
    datasetVersions(first: ${LIST}) { __typename ${FIELDS.DatasetVersion} }
    slices(first: ${LIST}) { __typename ${FIELDS.Slice} }
    sources(first: ${LIST}) { __typename ${FIELDS.Source} }
    edges(first: 500) { ${EDGE_FIELDS} }
  }
}`;

interface Trace {
  inference: GNodeData;
  deployment: GNodeData | null;
  modelVersion: GNodeData;
  runCount: number;
  datasetVersionCount: number;
  sliceCount: number;
  sourceCount: number;
  edgeCount: number;
  fineTuneChain: GNodeData[];
  runs: (GNodeData & { code: Record<string, unknown>; environment: Record<string, unknown> })[];
  datasetVersions: GNodeData[];
  slices: GNodeData[];
  sources: GNodeData[];
  edges: GEdgeData[];
}

export const tracePage: Page = async (root: HTMLElement, route: Route, leave) => {
  const id = route.id;
  const idInput = h("input", { name: "inferenceId", value: id, placeholder: "inference:demo-sent-02-05", size: 34, "aria-label": "Inference id" });
  const form = h(
    "form",
    { class: "controls" },
    h("h1", null, "Trace an inference"),
    h("div", { class: "row" }, field("Inference", idInput), h("button", { type: "submit" }, "Trace")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(href("trace", idInput.value.trim()));
  });
  root.append(form);
  if (!id) {
    root.append(h("p", { class: "muted" }, "Give an inference id, or ", h("a", { href: href("search", "", { kinds: "Inference" }) }, "search"), " for one."));
    return;
  }
  root.append(loading("the trace"));
  const t = (await gql<{ traceInference: Trace }>(TRACE, { id })).traceInference;
  root.querySelector(".loading")?.remove();

  const mv = t.modelVersion;
  const excluded = t.sources.filter((s) => isExcluded(s));
  root.append(
    h(
      "ol",
      { class: "chain" },
      h("li", null, h("span", { class: "kind" }, "Inference"), h("code", null, t.inference.id), h("span", { class: "muted" }, when(t.inference.at as string))),
      h(
        "li",
        null,
        h("span", { class: "kind" }, "Deployment"),
        t.deployment
          ? [h("code", null, t.deployment.id), h("span", { class: "muted" }, `${Math.round(Number(t.deployment.trafficShare) * 100)}% of ${nameOf(String(t.deployment.endpointId))}`)]
          : h("span", { class: "muted" }, "none recorded (logged against the version directly)"),
      ),
      h(
        "li",
        null,
        h("span", { class: "kind" }, "Model version"),
        h("a", { href: href("model-version", mv.id) }, nameOf(mv.id)),
        h("span", { class: `stage stage-${String(mv.stage).toLowerCase()}` }, String(mv.stage)),
        t.fineTuneChain.length > 0 && h("span", { class: "muted" }, `fine-tuned from ${t.fineTuneChain.map((v) => nameOf(v.id)).join(" ← ")}`),
      ),
      h("li", null, h("span", { class: "kind" }, "Runs"), `${t.runCount}`),
      h("li", null, h("span", { class: "kind" }, "Data"), `${t.datasetVersionCount} dataset versions, ${t.sliceCount} slices`),
      h(
        "li",
        null,
        h("span", { class: "kind" }, "Sources"),
        `${t.sourceCount}`,
        excluded.length > 0 && h("span", { class: "mark excluded inline" }, ` ${excluded.length} excluded: ${excluded.map((s) => s.name).join(", ")}`),
      ),
    ),
  );

  const nodes: GNodeData[] = [t.inference, ...(t.deployment ? [t.deployment] : []), mv, ...t.fineTuneChain, ...t.runs, ...t.datasetVersions, ...t.slices, ...t.sources];
  // The trace's edges are provenance among what it reached; the serving links on top come from the
  // inference and deployment themselves (as the server's DOT picture draws them).
  const edges: GEdgeData[] = [{ type: "PREDICTED_WITH", fromId: t.inference.id, toId: mv.id }, ...t.edges];
  if (t.deployment) {
    edges.push({ type: "SERVED_BY", fromId: t.inference.id, toId: t.deployment.id }, { type: "OF", fromId: t.deployment.id, toId: mv.id });
  }
  const canvas = h("div", { class: "graph", id: "graph" });
  const side = h("div", { class: "side" });
  const cut = t.edgeCount > t.edges.length || t.runCount > t.runs.length || t.datasetVersionCount > t.datasetVersions.length;
  root.append(
    cut ? h("p", { class: "partial" }, "This trace is larger than one page: the picture shows the first pages of each list.") : "",
    h("div", { class: "graph-page" }, h("div", { class: "graph-wrap" }, canvas, legend()), side),
  );
  const view = new GraphView(canvas, { onSelect: (node) => side.replaceChildren(node ? nodePanel(node) : runsTable(t)) });
  leave(() => view.destroy());
  view.draw(nodes, edges, { start: [t.inference.id] });
  side.replaceChildren(runsTable(t));
};

/** Code and environment of each run: what an auditor asks next about a prediction. */
function runsTable(t: Trace): HTMLElement {
  return h(
    "aside",
    { class: "panel" },
    h("p", { class: "kind" }, "Runs in this trace"),
    t.runs.map((r) =>
      h(
        "section",
        { class: "run", "data-id": r.id },
        h("h4", null, h("code", null, r.id)),
        facts([
          ["kind", String(r.runKind)],
          ["status", String(r.status)],
          ["started", day(r.startedAt as string)],
          ["code", [r.code.repo, r.code.commit, r.code.entrypoint].filter(Boolean).join(" @ ")],
          ["environment", [r.environment.framework, r.environment.frameworkVersion, r.environment.python && `python ${r.environment.python}`, r.environment.imageDigest].filter(Boolean).join(", ")],
        ]),
      ),
    ),
  );
}
