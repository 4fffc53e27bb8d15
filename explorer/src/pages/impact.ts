// Impact of a source: `impactReport` as a document an auditor can print or save as PDF (see @media print).

import { gql } from "../api";
import { day, h, when } from "../dom";
import { nameOf } from "../kinds";
import type { Page } from "../main";
import { FIELDS } from "../queries";
import { asOfTime, go, href, type Route } from "../router";
import { asOfInput, field, loading } from "../ui";

const LIST = 500;
const IMPACT = `query Impact($id: ID!, $asOf: DateTime) {
  impactReport(sourceId: $id, asOf: $asOf) {
    source { ${FIELDS.Source} }
    asOf firstUsedAt inferences isPartial
    datasetVersionCount sliceCount runCount modelVersionCount
    modelVersions(first: ${LIST}) {
      modelVersion { id modelId number: version artifactUri }
      stage inferences
      liveDeployments { id endpointId trafficShare startedAt }
    }
    runs(first: ${LIST}) { id key runKind: kind status startedAt endedAt }
    datasetVersions(first: ${LIST}) { id datasetId dataVersion: version rowCount createdAt }
    slices(first: ${LIST}) { id datasetVersionId name rowCount }
  }
}`;

type Row = Record<string, unknown>;
interface Affected {
  modelVersion: { id: string; modelId: string; number: number; artifactUri: string };
  stage: string;
  inferences: number;
  liveDeployments: { id: string; endpointId: string; trafficShare: number; startedAt: string }[];
}
interface Report {
  source: Row;
  asOf: string;
  firstUsedAt: string | null;
  inferences: number;
  isPartial: boolean;
  datasetVersionCount: number;
  sliceCount: number;
  runCount: number;
  modelVersionCount: number;
  modelVersions: Affected[];
  runs: Row[];
  datasetVersions: Row[];
  slices: Row[];
}

const STAGE_ORDER = ["PRODUCTION", "STAGING", "NONE", "ARCHIVED"];

export const impactPage: Page = async (root: HTMLElement, route: Route) => {
  const id = route.id;
  const asOf = route.params.get("asOf");
  const idInput = h("input", { name: "sourceId", value: id, placeholder: "source:forum-scrape", size: 30, "aria-label": "Source id" });
  const dateInput = asOfInput(asOf);
  const form = h(
    "form",
    { class: "controls no-print" },
    h("h1", null, "Impact of a source"),
    h("div", { class: "row" }, field("Source", idInput), field("As of", dateInput), h("button", { type: "submit" }, "Report"), id && h("button", { type: "button", class: "print", onclick: () => window.print() }, "Print / save as PDF")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(href("impact", idInput.value.trim(), { asOf: dateInput.value }));
  });
  root.append(form);
  if (!id) {
    root.append(h("p", { class: "muted" }, "Give a source id, or ", h("a", { href: href("search", "", { kinds: "Source" }) }, "search"), " for one."));
    return;
  }
  root.append(loading("the impact report"));
  const r = (await gql<{ impactReport: Report }>(IMPACT, { id, asOf: asOfTime(asOf) })).impactReport;
  root.querySelector(".loading")?.remove();
  const s = r.source;
  const live = r.modelVersions.flatMap((m) => m.liveDeployments.map((d) => ({ ...d, version: m.modelVersion.id })));
  const shown = (count: number, list: unknown[]) => (count > list.length ? h("p", { class: "partial" }, `The first ${list.length} of ${count} are listed.`) : "");

  root.append(
    h(
      "article",
      { class: "report" },
      h("h1", null, `Impact report: source ${String(s.name)}`),
      h(
        "p",
        { class: "meta" },
        `Everything derived from `,
        h("code", null, String(s.id)),
        ` as of ${when(r.asOf)}. Generated ${when(new Date().toISOString())} from the provgraph API (impactReport).`,
      ),
      s.excludedAt
        ? h("p", { class: "mark excluded" }, `Excluded ${day(s.excludedAt as string)}: ${String(s.exclusionReason ?? "")}`)
        : h("p", { class: "muted" }, "This source is not excluded."),
      r.isPartial ? h("p", { class: "partial" }, "Partial: the traversal depth limit cut this report; more may be affected.") : "",
      h(
        "table",
        { class: "kv source" },
        h(
          "tbody",
          null,
          [
            ["kind", s.sourceKind],
            ["uri", s.uri],
            ["owner", s.owner],
            ["license", s.license],
            ["first used by a run", when(r.firstUsedAt)],
          ]
            .filter(([, v]) => v)
            .map(([k, v]) => h("tr", null, h("th", null, String(k)), h("td", null, String(v)))),
        ),
      ),
      h(
        "ul",
        { class: "totals" },
        total(r.modelVersionCount, "model versions"),
        total(live.length, "live deployments"),
        total(r.inferences, "inferences served"),
        total(r.runCount, "runs"),
        total(r.datasetVersionCount, "dataset versions"),
        total(r.sliceCount, "slices"),
      ),
      h("h2", null, "Model versions, by stage"),
      table(
        ["Stage", "Model version", "Inferences", "Live deployments", "Artifact"],
        [...r.modelVersions]
          .sort((a, b) => STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage) || a.modelVersion.id.localeCompare(b.modelVersion.id))
          .map((m) => [
            h("span", { class: `stage stage-${m.stage.toLowerCase()}` }, m.stage),
            h("a", { href: href("model-version", m.modelVersion.id) }, nameOf(m.modelVersion.id)),
            m.inferences.toLocaleString("en"),
            m.liveDeployments.map((d) => `${nameOf(d.endpointId)} ${Math.round(d.trafficShare * 100)}%`).join(", ") || "—",
            h("code", null, m.modelVersion.artifactUri),
          ]),
        "model-versions",
      ),
      shown(r.modelVersionCount, r.modelVersions),
      h("h2", null, "Live deployments"),
      live.length
        ? table(["Endpoint", "Model version", "Traffic", "Since"], live.map((d) => [nameOf(d.endpointId), nameOf(d.version), `${Math.round(d.trafficShare * 100)}%`, when(d.startedAt)]), "deployments")
        : h("p", { class: "muted" }, "None at this time."),
      h("h2", null, "Runs"),
      table(["Run", "Kind", "Status", "Started", "Ended"], r.runs.map((x) => [h("code", null, String(x.id)), String(x.runKind), String(x.status), when(x.startedAt as string), when(x.endedAt as string)]), "runs"),
      shown(r.runCount, r.runs),
      h("h2", null, "Dataset versions"),
      table(["Dataset version", "Rows", "Created"], r.datasetVersions.map((x) => [h("code", null, String(x.id)), x.rowCount == null ? "" : Number(x.rowCount).toLocaleString("en"), day(x.createdAt as string)]), "dataset-versions"),
      shown(r.datasetVersionCount, r.datasetVersions),
      h("h2", null, "Slices"),
      table(["Slice", "Rows"], r.slices.map((x) => [h("code", null, String(x.id)), x.rowCount == null ? "" : Number(x.rowCount).toLocaleString("en")]), "slices"),
      shown(r.sliceCount, r.slices),
      h("p", { class: "print-only url" }, `Reproduce: ${location.origin}/${location.hash}`),
    ),
  );
};

function total(n: number, what: string): HTMLElement {
  return h("li", null, h("strong", null, n.toLocaleString("en")), ` ${what}`);
}

function table(head: string[], rows: (string | Node)[][], name: string): HTMLElement {
  if (!rows.length) return h("p", { class: "muted" }, "None.");
  return h(
    "table",
    { class: `listing ${name}` },
    h("thead", null, h("tr", null, head.map((c) => h("th", null, c)))),
    h("tbody", null, rows.map((cells) => h("tr", null, cells.map((c) => h("td", null, c))))),
  );
}
