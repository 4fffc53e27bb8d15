// Deployments of an endpoint as a timeline: one row per model version, one bar per deployment interval,
// its height the share of traffic. Canaries and rollbacks are worked out from the intervals themselves,
// not from the free-text reasons:
//   - a canary is a deployment with less than all traffic while another version is live beside it;
//   - a rollback is a deployment of an older version of the same model that starts when a newer one ends.

import { h, svg, when } from "./dom";
import { nameOf } from "./kinds";

export interface Deployment {
  id: string;
  modelVersionId: string;
  startedAt: string;
  endedAt: string | null;
  trafficShare: number;
  reason: string | null;
  endReason: string | null;
}

const TOUCHING_MS = 5 * 60 * 1000; // an end and a start this close are one hand-over

function ms(iso: string | null, now: number): number {
  return iso ? new Date(iso).getTime() : now;
}

function numberOf(versionId: string): [string, number] {
  const [, model, n] = versionId.split(":");
  return [model, Number(n)];
}

export function isCanary(d: Deployment, all: Deployment[], now = Date.now()): boolean {
  if (d.trafficShare >= 1) return false;
  const [s, e] = [ms(d.startedAt, now), ms(d.endedAt, now)];
  return all.some((o) => o.modelVersionId !== d.modelVersionId && ms(o.startedAt, now) < e && s < ms(o.endedAt, now));
}

export function isRollback(d: Deployment, all: Deployment[], now = Date.now()): boolean {
  const [model, n] = numberOf(d.modelVersionId);
  const start = ms(d.startedAt, now);
  return all.some((o) => {
    const [otherModel, m] = numberOf(o.modelVersionId);
    return otherModel === model && m > n && o.endedAt !== null && Math.abs(ms(o.endedAt, now) - start) <= TOUCHING_MS;
  });
}

/** The picture and the table of one endpoint's deployments, this version's emphasised. */
export function endpointTimeline(endpoint: { id: string; name: string; environment: string }, deployments: Deployment[], thisVersion: string): HTMLElement {
  const now = Date.now();
  const versions = [...new Set(deployments.map((d) => d.modelVersionId))].sort((a, b) => numberOf(a)[1] - numberOf(b)[1] || a.localeCompare(b));
  const start = Math.min(...deployments.map((d) => ms(d.startedAt, now)));
  const end = Math.max(...deployments.map((d) => ms(d.endedAt, now)));
  const span = Math.max(end - start, 1);
  const [left, width, rowH] = [130, 640, 34];
  const x = (t: number) => left + ((t - start) / span) * width;
  const picture = svg("svg", {
    class: "timeline",
    viewBox: `0 0 ${left + width + 20} ${versions.length * rowH + 30}`,
    role: "img",
    "aria-label": `Deployments on ${endpoint.name} over time`,
  });
  versions.forEach((v, row) => {
    const y = row * rowH + 4;
    picture.append(
      svg("text", { x: 4, y: y + rowH / 2 + 4, class: v === thisVersion ? "this" : "" }, nameOf(v)),
      svg("line", { x1: left, x2: left + width, y1: y + rowH - 4, y2: y + rowH - 4, class: "row-line" }),
    );
  });
  for (const d of deployments) {
    const row = versions.indexOf(d.modelVersionId);
    const barH = Math.max(6, (rowH - 10) * d.trafficShare);
    const y = row * rowH + 4 + (rowH - 4 - barH);
    const [s, e] = [x(ms(d.startedAt, now)), x(ms(d.endedAt, now))];
    const classes = ["bar", d.modelVersionId === thisVersion ? "this" : "", isCanary(d, deployments, now) ? "canary" : "", isRollback(d, deployments, now) ? "rollback" : "", d.endedAt ? "" : "live"];
    const bar = svg("rect", { x: s, y, width: Math.max(e - s, 2), height: barH, rx: 2, class: classes.join(" ").trim(), "data-id": d.id });
    bar.append(svg("title", {}, `${d.id}: ${nameOf(d.modelVersionId)} ${Math.round(d.trafficShare * 100)}% from ${when(d.startedAt)} to ${d.endedAt ? when(d.endedAt) : "now"}`));
    picture.append(bar);
    if (d.trafficShare < 1) picture.append(svg("text", { x: s + 3, y: y - 2, class: "share" }, `${Math.round(d.trafficShare * 100)}%`));
    if (isRollback(d, deployments, now)) picture.append(svg("text", { x: s + 3, y: y + barH - 3, class: "rollback-mark" }, "↩ rollback"));
  }
  const axisY = versions.length * rowH + 22;
  picture.append(
    svg("text", { x: left, y: axisY, class: "axis" }, when(new Date(start).toISOString()).slice(0, 10)),
    svg("text", { x: left + width, y: axisY, class: "axis", "text-anchor": "end" }, deployments.some((d) => !d.endedAt) ? "now" : when(new Date(end).toISOString()).slice(0, 10)),
  );
  return h(
    "section",
    { class: "endpoint", "data-id": endpoint.id },
    h("h3", null, `${endpoint.name} `, h("span", { class: "muted" }, `(${endpoint.environment})`)),
    picture,
    h(
      "table",
      { class: "listing deployments" },
      h("thead", null, h("tr", null, ["Deployment", "Version", "Traffic", "Started", "Ended", "Why", "Why it ended", ""].map((c) => h("th", null, c)))),
      h(
        "tbody",
        null,
        [...deployments]
          .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id))
          .map((d) => {
            const marks = [isCanary(d, deployments, now) && "canary", isRollback(d, deployments, now) && "rollback", !d.endedAt && "live"].filter(Boolean) as string[];
            return h(
              "tr",
              { "data-id": d.id, class: d.modelVersionId === thisVersion ? "this" : null },
              h("td", null, h("code", null, d.id)),
              h("td", null, nameOf(d.modelVersionId)),
              h("td", null, `${Math.round(d.trafficShare * 100)}%`),
              h("td", null, when(d.startedAt)),
              h("td", null, d.endedAt ? when(d.endedAt) : "—"),
              h("td", null, d.reason ?? ""),
              h("td", null, d.endReason ?? ""),
              h("td", { class: "marks" }, marks.map((m) => h("span", { class: `tag ${m}` }, m))),
            );
          }),
      ),
    ),
  );
}
